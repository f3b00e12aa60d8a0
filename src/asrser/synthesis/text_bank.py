"""Sentence banks of the synthetic corpora: template sentences filled from shared word lists.

Three banks, so that the text an encoder is pretrained on differs from the text it is tested on:
- the demo bank (`demo_sentence`, here): short conversational turns as in IEMOCAP, with emotion
  cues in the wording only part of the time. An emotional utterance uses its emotion's lexicon
  (ang "ridiculous, hate, unacceptable", hap "wonderful, love", sad "miss, lonely, sorry", neu
  "meeting, schedule, Tuesday") in about half of the cases, neutral wording in about a third, and
  another emotion's words (sarcasm, quoting, consoling) in the rest; so neither words nor prosody
  alone decide the class, as in the paper;
- the pretraining bank (`pretrain_text_bank.pretrain_sentence`): read speech, lines of
  conversation and dialogue and narration, with its own templates and a larger vocabulary which
  covers the demo's words in other contexts and often enough (as LibriSpeech's audiobooks do for
  IEMOCAP), so a character CTC model pretrained on it can spell the demo's words;
- the generic bank (`pretrain_text_bank.generic_sentence`): announcements, reports and old-book
  prose for the MUSAN "speech" noise.
This module holds the shared word lists (`_SLOTS`), `fill_template` and the demo bank.
Numbers are spelled out and there are no abbreviations, so what eSpeak says is what the transcript
says after `normalize_transcript`.
"""

from __future__ import annotations

import re

import numpy as np

# fmt: off
FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack", "Karen",
    "Leo", "Maria", "Nathan", "Olivia", "Peter", "Rachel", "Sam", "Tina", "Victor", "Wendy", "Zoe",
    "Mike", "Linda", "Tom", "Sarah", "James", "Laura", "Chris", "Nina", "Paul", "Julia", "Oscar",
    "Helen", "Daniel", "Lucy", "Robert", "Sophie", "Kevin", "Amy", "George", "Hannah", "Steven",
    "Megan", "Eric", "Diane", "Martin", "Claire", "Joe", "Rosa", "Walter", "Alice", "Simon",
)
PEOPLE = (
    "mother", "father", "brother", "sister", "boss", "neighbor", "roommate", "teacher", "doctor",
    "landlord", "grandmother", "grandfather", "cousin", "uncle", "aunt", "best friend", "husband",
    "wife", "girlfriend", "boyfriend", "manager", "coach", "lawyer", "nurse", "daughter", "son",
)
PLACES = (
    "office", "airport", "hospital", "bank", "station", "library", "restaurant", "kitchen",
    "garage", "beach", "park", "hotel", "school", "church", "market", "gym", "museum", "bakery",
    "pharmacy", "post office", "parking lot", "front desk", "waiting room", "coffee shop",
    "train station", "dentist", "city hall", "grocery store", "hallway", "basement", "lobby",
)
DAYS = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "tomorrow",
    "tonight", "next week", "this weekend", "yesterday", "last night", "this morning",
)
TIMES = (
    "at nine", "at half past ten", "around noon", "at a quarter to five", "before lunch",
    "after dinner", "in the morning", "by eight o'clock", "at seven thirty", "in the afternoon",
    "after work", "before midnight", "at two o'clock", "first thing tomorrow",
)
OBJECTS = (
    "keys", "passport", "wallet", "letter", "ticket", "forms", "car", "phone", "laptop", "package",
    "umbrella", "jacket", "photos", "ring", "bicycle", "receipt", "license", "contract", "suitcase",
    "notebook", "flowers", "cake", "guitar", "painting", "boxes", "papers", "documents", "report",
    "application", "camera", "watch", "glasses", "blanket", "invitation", "bill",
)
FOODS = (
    "pasta", "soup", "sandwiches", "pizza", "salad", "coffee", "tea", "pancakes", "chicken",
    "rice", "cookies", "strawberries", "bread", "cheese", "apples", "pie", "noodles", "eggs",
)
TASKS = (
    "call the bank", "fix the sink", "pick up the kids", "finish the report", "clean the kitchen",
    "book the tickets", "walk the dog", "pay the rent", "renew my license", "water the plants",
    "answer the phone", "move the car", "sign the forms", "check the mail", "print the documents",
    "cook dinner", "return the books", "wash the dishes", "feed the cat", "lock the door",
    "charge the phone", "order the supplies", "drive to the airport", "visit my grandmother",
)
NUMBERS = (
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "fifteen", "twenty", "thirty", "forty", "fifty", "a hundred",
)
EVENTS = (
    "wedding", "party", "interview", "concert", "trip", "dinner", "game", "birthday", "vacation",
    "graduation", "picnic", "show", "reunion", "holiday",
)

# Emotion lexicons: the wording cues of the demo bank.
ANGER_WORDS = (
    "ridiculous", "unacceptable", "outrageous", "insane", "pathetic", "absurd", "stupid",
    "useless", "disgusting", "unbelievable", "infuriating",
)
ANGER_FEELINGS = ("furious", "angry", "mad", "livid", "sick of this", "fed up", "done with you")
HAPPY_WORDS = (
    "wonderful", "great", "amazing", "fantastic", "lovely", "beautiful", "brilliant", "perfect",
    "awesome", "incredible", "terrific", "marvelous",
)
HAPPY_FEELINGS = ("delighted", "thrilled", "so happy", "glad", "excited", "overjoyed", "proud")
SAD_WORDS = (
    "lonely", "empty", "hopeless", "heartbroken", "miserable", "tired", "broken", "lost", "alone",
    "gloomy", "awful",
)
SAD_FEELINGS = ("so sorry", "so lonely", "so tired", "lost", "numb", "sad", "hurt")
NEUTRAL_WORDS = (
    "meeting", "schedule", "appointment", "agenda", "deadline", "budget", "form", "address",
    "printer", "floor plan", "invoice", "timetable", "registration", "reservation", "account",
)

_PLAIN = (
    "I went to the {place} {day}.",
    "Did you bring the {object} with you?",
    "{name} said she would call you {day}.",
    "We should {task} before we leave.",
    "I need to {task} {time}.",
    "Where did you put the {object}?",
    "My {person} is coming over {day}.",
    "Can you pass me the {food}, please?",
    "The {place} closes {time} on {day}.",
    "I think {name} left the {object} in the {place}.",
    "Are you going to the {event} {day}?",
    "It takes about {number} minutes to get to the {place}.",
    "Let me know when you {task}.",
    "{name} and I had {food} at the {place}.",
    "Do you want to {task} or should I?",
    "I saw your {person} at the {place} {day}.",
    "So what did {name} tell you about the {event}?",
    "I have {number} {object} in the car.",
    "We talked about it at the {place}.",
    "Is the {place} still open {time}?",
    "My {person} wants to know about the {event}.",
    "I already told {name} about the {object}.",
    "You have to {task} first.",
    "Well, I guess we could go to the {place}.",
    "It was right next to the {place}.",
    "Did {name} remember to {task}?",
)
_CUES: dict[str, tuple[str, ...]] = {
    "ang": (
        "This is {ang_word}, {name}!",
        "I hate it when you do that!",
        "That is completely {ang_word}!",
        "I am so {ang_feel} right now!",
        "You never {task}, not once!",
        "Don't you dare touch my {object} again!",
        "I can't stand your excuses anymore!",
        "This whole {event} is {ang_word}!",
        "Why is it always my fault?",
        "Get out of my {place} right now!",
        "I told you {number} times to {task}!",
        "Your {person} is {ang_word}, and you know it!",
        "Stop lying to me about the {object}!",
        "I am {ang_feel} with this nonsense!",
        "How could you be so {ang_word}?",
        "Shut up and listen to me, {name}!",
        "I hate this {place}, I hate all of it!",
        "That is the most {ang_word} thing I ever heard!",
        "Leave me alone, I am {ang_feel}!",
        "You broke my {object}, you idiot!",
        "Enough! I don't want to hear it!",
        "Don't talk to me like that, {name}!",
    ),
    "hap": (
        "That is {hap_word} news, {name}!",
        "I love this {place} so much!",
        "Oh, this {food} is {hap_word}!",
        "I am {hap_feel} for you!",
        "We won! I can't believe we won!",
        "What a {hap_word} {event} that was!",
        "Thank you, I love the {object}!",
        "You look {hap_word} today, {name}!",
        "I am {hap_feel} about the {event}!",
        "This is the best day of my life!",
        "Congratulations on the {event}, {name}!",
        "We are getting married on {day}!",
        "Your {person} is {hap_word}, I adore her!",
        "Everything is {hap_word} today!",
        "I got the job! Can you believe it?",
        "Oh, I love you so much!",
        "That was so much fun, {name}!",
        "Let's celebrate, this is {hap_word}!",
        "You made my day, thank you!",
        "The {event} was {hap_word}, we laughed all night!",
    ),
    "sad": (
        "I miss her so much.",
        "I feel so {sad_word} without him.",
        "I'm {sad_feel}, I really am.",
        "Nobody came to the {event}.",
        "My {person} passed away last {day_past}.",
        "I lost my {object}, and it was his.",
        "Everything feels {sad_word} since you left.",
        "I just want to cry all day.",
        "I'm sorry, I never meant to hurt you.",
        "We never got to say goodbye.",
        "I miss my {person} every single day.",
        "It's {sad_word} here without you, {name}.",
        "I don't think it will ever get better.",
        "He is gone, and he is not coming back.",
        "I spent {day_past} alone in the {place}.",
        "I was so {sad_word} after the funeral.",
        "I'm sorry, {name}, I failed you.",
        "Nothing matters anymore, {name}.",
        "I keep thinking about the {event} we missed.",
        "I feel {sad_feel} and I can't sleep.",
    ),
    "neu": (
        "The {neu_word} is on {weekday} {time}.",
        "Please fill out this {neu_word} first.",
        "Your {neu_word} is with the {place}.",
        "Can we move the {neu_word} to {weekday}?",
        "I need your {neu_word} and your {object}.",
        "The {neu_word} for {weekday} is ready.",
        "Let me check the {neu_word} for next week.",
        "You need to sign the {neu_word} at the front desk.",
        "Is the {neu_word} still scheduled for {weekday}?",
        "I'll send you the {neu_word} {time}.",
        "Take a number and wait in line, please.",
        "The {neu_word} says the office opens at nine.",
        "We have a {neu_word} with {name} on {weekday}.",
        "Which {neu_word} do I need for the {object}?",
        "The {neu_word} is due on {weekday}.",
        "Your {neu_word} number is on the {object}.",
        "Excuse me, where is the {place}?",
        "I would like to update my {neu_word}, please.",
    ),
}
# Surprise, frustration and unlabelled turns (dropped by IEM4 ingestion) get their own wording.
_CUES["sur"] = (
    "Wait, what? You're kidding me!",
    "Really? {name} did that?",
    "No way, the {event} is {day}?",
    "Oh my god, is that my {object}?",
    "You're here? I thought you were in the {place}!",
)
_CUES["fru"] = (
    "Why does this never work?",
    "I've been waiting here for {number} minutes.",
    "This {neu_word} is wrong again.",
    "I already did that, {name}.",
    "How many times do I have to {task}?",
)

_SLOTS = {
    "name": FIRST_NAMES,
    "person": PEOPLE,
    "place": PLACES,
    "day": DAYS,
    "weekday": DAYS[:7],
    "day_past": ("Monday", "Friday", "week", "month", "year", "summer", "winter"),
    "time": TIMES,
    "object": OBJECTS,
    "food": FOODS,
    "task": TASKS,
    "number": NUMBERS,
    "event": EVENTS,
    "ang_word": ANGER_WORDS,
    "ang_feel": ANGER_FEELINGS,
    "hap_word": HAPPY_WORDS,
    "hap_feel": HAPPY_FEELINGS,
    "sad_word": SAD_WORDS,
    "sad_feel": SAD_FEELINGS,
    "neu_word": NEUTRAL_WORDS,
}

# fmt: on

_SLOT = re.compile(r"\{(\w+)\}")
DEMO_CUE_PROBABILITIES = {"emotion": 0.5, "plain": 0.36, "misleading": 0.14}
_MISLEADING = {
    "ang": ("hap", "sad"),
    "hap": ("ang", "sad"),
    "sad": ("hap", "ang"),
    "neu": ("ang", "hap", "sad"),
}


def _pick(options, rng: np.random.Generator):
    return options[int(rng.integers(len(options)))]


def fill_template(template: str, rng: np.random.Generator, slots: dict = _SLOTS) -> str:
    """Fill each {slot} independently (slot values may hold slots); capitalise the first letter."""
    text = template
    for _ in range(3):
        text = _SLOT.sub(lambda match: _pick(slots[match[1]], rng), text)
    if _SLOT.search(text):
        raise ValueError(f"template {template!r}: slots nested too deeply")
    return text[:1].upper() + text[1:]


def demo_sentence(emotion: str, rng: np.random.Generator) -> tuple[str, str]:
    """A conversational turn for an utterance annotated `emotion`, and its cue kind.

    `emotion` is an IEMOCAP label: ang, hap, exc (happy wording), sad, neu, fru, sur or xxx.
    The cue kind is 'emotion' (the label's own lexicon), 'plain' (neutral wording) or
    'misleading' (another emotion's lexicon).
    """
    base = {"exc": "hap"}.get(emotion, emotion)
    if base == "xxx":  # no annotator agreement: any wording at all
        base = _pick(("ang", "hap", "sad", "neu", "fru", "sur"), rng)
    if base in ("fru", "sur"):
        kinds, probabilities = ("emotion", "plain"), (0.6, 0.4)
    elif base in _MISLEADING:
        kinds, probabilities = tuple(DEMO_CUE_PROBABILITIES), tuple(DEMO_CUE_PROBABILITIES.values())
    else:
        raise ValueError(f"unknown emotion label '{emotion}'")
    kind = kinds[int(rng.choice(len(kinds), p=probabilities))]
    if kind == "plain":
        template = _pick(_PLAIN, rng)
    elif kind == "emotion":
        template = _pick(_CUES[base], rng)
    else:
        template = _pick(_CUES[_pick(_MISLEADING[base], rng)], rng)
    return fill_template(template, rng), kind


def vocabulary(bank: str) -> set[str]:
    """Every word a bank can produce, normalised (upper case): 'demo', 'pretrain' or 'generic'."""
    from asrser.common.text import normalize_transcript

    # Imported here: pretrain_text_bank imports this module's word lists and fill_template.
    from asrser.synthesis.pretrain_text_bank import (
        _CONVERSATION,
        _DIALOGUE,
        _GENERIC,
        _GENERIC_SLOTS,
        _PRETRAIN,
        _PRETRAIN_SLOTS,
    )

    templates, slots = {
        "demo": ((*_PLAIN, *(t for ts in _CUES.values() for t in ts)), _SLOTS),
        "pretrain": ((*_PRETRAIN, *_DIALOGUE, *_CONVERSATION), _PRETRAIN_SLOTS),
        "generic": (_GENERIC, _GENERIC_SLOTS),
    }[bank]
    words: set[str] = set()
    pending, seen = list(templates), set()
    while pending:
        text = pending.pop()
        words |= set(normalize_transcript(_SLOT.sub(" ", text)).split())
        for slot in set(_SLOT.findall(text)) - seen:
            seen.add(slot)
            pending += slots[slot]
    return words
