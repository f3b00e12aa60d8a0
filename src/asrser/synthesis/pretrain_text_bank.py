"""The pretraining and generic sentence banks of the synthetic corpora (see `text_bank`).

- the pretraining bank (`pretrain_sentence`): read speech, lines of conversation and dialogue and
  narration, with its own templates and a larger vocabulary which covers the demo's words in
  other contexts and often enough (as LibriSpeech's audiobooks do for IEMOCAP), so a character
  CTC model pretrained on it can spell the demo's words;
- the generic bank (`generic_sentence`): announcements, reports and old-book prose for the MUSAN
  "speech" noise.
Both fill their templates from the demo bank's word lists (`text_bank._SLOTS`) plus their own.
"""

from __future__ import annotations

import numpy as np

from asrser.synthesis.text_bank import (
    _SLOTS,
    ANGER_FEELINGS,
    ANGER_WORDS,
    HAPPY_FEELINGS,
    HAPPY_WORDS,
    SAD_FEELINGS,
    SAD_WORDS,
    _pick,
    fill_template,
)

# fmt: off
# Quoted speech in narration: the pretraining bank's conversational function words and
# emotion words, in other sentences than the demo's.
_QUOTES = (
    "I can't believe you did it again",
    "Are you going to be here tomorrow",
    "I have already been to the {place}",
    "She always says she will come back",
    "Is it too late to get better",
    "Bring me the {object}, and be quick",
    "I don't think he broke it",
    "We should celebrate when the job is done",
    "The {place} closes at six, so hurry",
    "Who is coming over tonight",
    "That answer is completely wrong",
    "Congratulations, you have won the prize",
    "Do not cry, my dear, everything will be fine",
    "How dare you touch that",
    "What a long day it has been",
    "Does he know the way to the {place}",
    "I'm not ready yet, give me a minute",
    "Tell me what happened to your {person}",
    "Wait for me by the {building}",
    "Nothing is wrong, I just need to sleep",
    "Let's go home, it's getting late",
    "I'll send them a letter in the morning",
    "I've never seen anything like it",
    "You're kidding, aren't you",
    "Where would you like to sit",
    "Which one of you took my {object}",
    "I hate to say it, but you were right",
    "I love the way you laugh",
    "I miss the old days, when we were young",
    "I'm sorry for your loss",
    "We met at the funeral of a friend",
    "They got married in the spring",
    "Stop talking and listen to me",
    "Shut the door and keep quiet",
    "Enough of your excuses and your nonsense",
    "It was my fault, not his",
    "Don't be an idiot",
    "I thought I heard someone knocking",
    "Is there still a line at the {place}",
    "Take your time, there is no need to rush",
    "Pass the salt, please",
    "Well, I guess that settles it",
    "Can you fill this bucket with water",
    "It matters more than you think",
    "He just stood there and said goodbye",
    "Since when do you care about me",
    "Not a single person came to help",
    "Look at me when I talk to you",
    "I want to update you on the plan",
    "Keep thinking about it, and let me know",
    "The invoice is due at the end of the month",
    "My whole life I wanted a job like this",
    "Excuse me, is this seat taken",
    "I feel better now that you are here",
    "Everything feels different in the {season}",
    "You look tired, you should get some rest",
    "I'm lying if I say I'm not scared",
    "Oh my god, what a mess",
    "We laughed until we were out of breath",
    "How many times have I told you",
    "It takes time, it really does",
    "I saw him once, a year ago",
    "Nobody is going to stand for this",
    "Send me the number when you have it",
    "The meeting was scheduled for noon, but it opens late",
    "I would rather stay home today",
    "Put it over there, right next to the door",
    "I am not going to leave without you",
    "Thank you so much, it was fun",
    "Have you heard the news",
    "She passed every test and never failed once",
    "He wants to know where all the money has gone",
    "I never meant to hurt anyone",
    "We talked for hours and missed the last train",
    "It made me feel like a child again",
    "Most people adore him, I don't know why",
    "Wait a few minutes and hear what he has to say",
    "I don't live there anymore, I moved away",
    "Did you ever find out how much it cost",
)

# Pretraining bank, dialogue: first- and second-person lines (as in the dialogue of audiobooks),
# other templates than the demo's. Narration alone left the conversational words the demo is
# made of rare (CAN, WANT, AM, DAY, TODAY: 10-15 times in 76,000 words) and the pretrained
# encoder spelled them by ear.
_DIALOGUE = (
    "I want you to {task} today.",
    "Can you {task} for me {day}?",
    "I am not sure I can {task} {time}.",
    "Do you want me to bring the {object}?",
    "You should have told me about the {event}.",
    "I can't find my {object} anywhere.",
    "Why would you leave the {object} at the {place}?",
    "I think we should leave right now.",
    "Is this your {object} or mine?",
    "Don't forget to {task} before you go.",
    "What do you want to do about the {neu_word}?",
    "I am so {feeling} that I can't think.",
    "Would you call me when you get to the {place}?",
    "I know you don't like the {food}, but try it.",
    "All I need is a day off.",
    "We can talk about it tomorrow, if you want.",
    "Are you sure this is the right {place}?",
    "My {person} never calls me anymore.",
    "I have been thinking about you all day.",
    "It's not my fault that the {object} broke.",
    "Let's go to the {place} and get some {food}.",
    "Do I really have to {task} again?",
    "You can leave your {object} with me.",
    "This is the first time I ever saw the {landscape}.",
    "I'm {feeling}, that's all I can say.",
    "Have you ever been to the {event} at the {place}?",
    "I would love to come, but I have to {task}.",
    "Your {person} wants to see you, {name}.",
    "I already know about the {neu_word}.",
    "What is wrong with you today?",
    "You never listen to me, do you?",
    "I don't want to miss the {event} this time.",
    "I should call my {person} right now.",
    "Can I have some {food}, please?",
    "Please tell me what you want.",
    "I miss the {landscape} and the long summer days.",
    "Is it true that you {past_verb} my {object}?",
    "Next time, call me first, {name}.",
    "We have to leave before it gets dark.",
    "This {neu_word} is all wrong, I can't use it.",
    "I hate waiting, you know that.",
    "Do you still have my {object}?",
    "So, what do you think about the {neu_word}?",
    "I am going to {task}, and then I am done.",
    "You are right, I should have listened.",
    "Well, I can bring the {food} if you want.",
    "It's all right, you can stay with me.",
    "I believe you, {name}, I always did.",
    "Did you get my message about the {event}?",
    "Give me the {object} and leave me alone.",
)
# Pretraining bank, conversation: lines dense in the words the demo is made of (names, places,
# objects, errands, days, emotion words), other templates than the demo's. With narration and
# dialogue only, a demo word came up 20-50 times in 72,000 and was spelled by ear: voices of the
# demo read pretraining sentences at WER 0.30 and demo sentences at 0.52.
_CONVERSATION = (
    "{name}, did your {person} take the {object} to the {place} {day}?",
    "I told {name} we would have {food} after the {event}.",
    "Tell {name} that the {neu_word} is at the {place}.",
    "If you see {name} at the {place}, ask about the {object}.",
    "My {person} and {name} will {task} {day}.",
    "We can meet at the {place} {time}, or {day} if you like.",
    "How many {object} did {name} leave at the {place}?",
    "I heard the {event} at the {place} was {feeling}.",
    "Just put the {object} over there and go back to the {place}.",
    "Oh, {name}, thank you for the {food}, it was {hap_word}.",
    "No, {name}, I am not {ang_feel}, I am just {sad_feel}.",
    "I thought your {person} was coming to the {event} {day}.",
    "Since {day_past}, nothing feels the same at the {place}.",
    "Which {object} is yours, {name}, the old one or the new one?",
    "Let me know if the {place} opens {time} on {weekday}.",
    "Does your {person} still work at the {place}?",
    "It only takes {number} minutes, so please {task}.",
    "Every single time I {task}, something goes wrong.",
    "Where is the {object} that {name} gave you?",
    "I got a letter from my {person} about the {neu_word}.",
    "Stop worrying about the {event}, everything will be {hap_word}.",
    "You're kidding, {name} forgot to {task} again?",
    "Look, I'm not lying, the {object} was in the {place}.",
    "I can hear {name} talking in the {place}.",
    "We laughed so much at the {event} last night.",
    "Thank God you found the {object}, {name}.",
    "Shut the door of the {place} when you leave.",
    "You've got to be kidding me, the {neu_word} is due {day}?",
    "Please check the {neu_word} before you sign it.",
    "He says the {object} is still at the {place}.",
    "Would you like some {food} or some {food}?",
    "I'll call you back when I {task}.",
    "Is it true that {name} got married?",
    "I'm ready, let's go to the {place}.",
    "My {person} thinks the whole {event} is {ang_word}.",
    "I feel {sad_word} every time I pass the {place}.",
    "Our {person} was {hap_feel} the day we won the game.",
    "I never said the {food} was {ang_word}.",
    "Congratulations, {name}, the {event} was {hap_word}.",
    "Excuse me, is the {place} on this floor?",
    "That is the best {food} I ever had.",
    "I spent the whole day looking for my {object}.",
    "Nothing I do is good enough for my {person}.",
    "Wait here, I have to {task} first.",
    "Can you stand in line for me at the {place}?",
    "How much did you pay for the {object}?",
    "I keep my {object} in the car, just in case.",
    "The {place} is closed, so we have to come back {day}.",
    "I know it is not your fault, {name}.",
    "Why do you always leave your {object} at the {place}?",
    "Have you ever seen {name} so {feeling}?",
    "I'm so glad you came to the {event}.",
    "Do not touch the {food}, it's for the {event}.",
    "Don't you think the {neu_word} is a little {ang_word}?",
    "I am not going to {task} without you.",
    "Give the {object} back to {name}, please.",
    "I've been at the {place} since {time}.",
    "My {person} is {sad_word} since the funeral.",
    "We missed the {event} because of the {neu_word}.",
    "Tell me the truth, {name}, did you break the {object}?",
    "You should see the {place}, it is {hap_word}.",
    "I have to update the {neu_word} and then {task}.",
    "The last time I saw {name} was at the {place}.",
    "Hurry up, the {event} starts {time}.",
    "Can I move my {neu_word} to {weekday}, {name}?",
    "I'm sorry I missed your call, I had to {task}.",
    "All right, I will bring the {food} and the {object}.",
    "Some people think the {place} is {hap_word}, others hate it.",
    "I need a break, {name}, I am so {sad_feel}.",
    "Your {person} called, she wants the {object} back.",
)
CONVERSATION_SHARE = 0.35  # of the pretraining sentences
DIALOGUE_SHARE = 0.45  # of the other pretraining sentences (the rest is narration)

# Pretraining bank: narration (read speech), its own templates and extra vocabulary.
_PRETRAIN_SLOTS = {
    **_SLOTS,
    "profession": (
        "farmer", "sailor", "baker", "soldier", "painter", "carpenter", "merchant", "pilot",
        "student", "engineer", "writer", "fisherman", "gardener", "scientist", "captain", "judge",
        "musician", "miner", "tailor", "priest", "librarian", "shepherd",
    ),
    "landscape": (
        "valley", "river", "forest", "desert", "hill", "meadow", "village", "harbor", "bridge",
        "field", "mountain", "lake", "road", "island", "shore", "orchard", "cliff", "swamp",
    ),
    "building": (
        "cottage", "castle", "barn", "tower", "chapel", "factory", "warehouse", "inn", "cabin",
        "palace", "mill", "lighthouse", "school house", "courthouse",
    ),
    "weather": (
        "rain", "snow", "fog", "wind", "storm", "sunshine", "thunder", "frost", "heat", "mist",
    ),
    "color": (
        "red", "green", "blue", "yellow", "gray", "white", "black", "golden", "silver", "brown",
        "purple", "orange", "pale",
    ),
    "animal": (
        "horse", "dog", "cat", "fox", "wolf", "goat", "owl", "rabbit", "crow", "deer", "bear",
        "sheep", "mouse", "eagle", "duck", "cow",
    ),
    "past_verb": (
        "carried", "found", "opened", "closed", "painted", "repaired", "sold", "bought", "hid",
        "cleaned", "measured", "dropped", "lifted", "wrapped", "counted", "burned", "buried",
        "borrowed", "returned", "stole", "watched", "followed", "noticed", "described",
    ),
    "adverb": (
        "slowly", "quickly", "quietly", "carefully", "suddenly", "gently", "loudly", "eagerly",
        "patiently", "nervously", "calmly", "happily", "sadly", "angrily", "finally", "barely",
    ),
    "feeling": (
        *ANGER_WORDS, *ANGER_FEELINGS, *HAPPY_WORDS, *HAPPY_FEELINGS, *SAD_WORDS, *SAD_FEELINGS,
        "calm", "nervous", "curious", "worried", "bored", "grateful", "ashamed", "jealous",
    ),
    "season": ("spring", "summer", "autumn", "winter"),
    "quote": _QUOTES,
    "month": (
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ),
}
_PRETRAIN = (
    "The {profession} walked {adverb} across the {landscape}.",
    "In {month} the {weather} covered the whole {landscape}.",
    "A {color} {animal} slept near the old {building}.",
    "She {past_verb} the {object} and left them by the {building}.",
    "{name} {past_verb} the {color} {object} before the {weather} came.",
    "Her {person} felt {feeling} when the {object} arrived.",
    "He was {feeling}, because the {event} was cancelled.",
    "The {event} took place in a {building} by the {landscape}.",
    "We {past_verb} {number} {object} on our way to the {place}.",
    "They said the {neu_word} was kept at the {place}.",
    "Every {season} the {profession} went down to the {landscape}.",
    "Nobody knew why the {animal} {past_verb} the {object}.",
    "{name} told her {person} that the {food} was {feeling}.",
    "The {profession} {adverb} {past_verb} the {neu_word} for {name}.",
    "On {weekday} the {building} was {color} with {weather}.",
    "I remember the {season} we spent near the {landscape}.",
    "Before {month} ended, {name} had to {task}.",
    "It seemed {feeling} to everyone in the {place}.",
    "The {animal} and the {profession} {past_verb} the {object} together.",
    "His {person} wrote about the {weather} and the {color} sky.",
    "They decided to {task} {time} on {weekday}.",
    "A letter from the {profession} said that {name} felt {feeling}.",
    "The road to the {building} was long and {color}.",
    "Why did the {profession} {task} so {adverb}?",
    "{name} was {feeling} and {feeling} at the {event}.",
    "After the {event} we had {food} and {food} at the {place}.",
    "The old {profession} kept the {neu_word} in a {color} box.",
    "Under the {weather} the {animal} {adverb} crossed the {landscape}.",
    "Please remember to {task} {day}, said the {profession}.",
    "I could not say if it was {feeling} or {feeling}.",
    "The {person} asked whether the {place} was open {time}.",
    "When the {weather} stopped, the {profession} {past_verb} the {object}.",
    '"{quote}," said the {profession}.',
    '{name} looked at the {animal} and said, "{quote}."',
    'Her {person} wrote: "{quote}."',
    'The {profession} whispered, "{quote}," and left the {building}.',
    '"{quote}," {name} replied {adverb}.',
    'Then {name} asked, "{quote}?"',
)

# Generic bank: announcements, reports, old-book prose (the MUSAN "speech" noise).
_GENERIC_SLOTS = {
    **_PRETRAIN_SLOTS,
    "agency": (
        "the department", "the committee", "the council", "the board", "the commission",
        "the agency", "the senate", "the ministry", "the court", "the authority",
    ),
    "policy": (
        "the proposal", "the new policy", "the annual report", "the federal grant", "the tax plan",
        "the safety rules", "the public hearing", "the housing program", "the trade agreement",
    ),
    "topic": (
        "education", "transportation", "public health", "agriculture", "energy", "housing",
        "water supply", "national parks", "veterans", "small business",
    ),
}
_GENERIC = (
    "{agency} will review {policy} before the end of the year.",
    "Members of {agency} discussed {topic} at length on {weekday}.",
    "The chair recognizes the member from the {landscape} district.",
    "{policy} was approved by a vote of {number} to {number}.",
    "Funding for {topic} increased by {number} percent this {season}.",
    "Chapter {number}. The {profession} and the {animal}.",
    "It was a {color} evening in {month}, and the {weather} had come.",
    "The {profession} lived in a small {building} beyond the {landscape}.",
    "Thus the {animal} {past_verb} the {object} and was never seen again.",
    "Public comments on {topic} are due by the first of {month}.",
    "{agency} held {number} hearings on {topic} last {season}.",
    "Long ago, in a {building} by the {landscape}, there lived a {profession}.",
    "This recording is in the public domain.",
    "The witness stated that {policy} affected {topic} directly.",
    "And so the {profession} went {adverb} home through the {weather}.",
)
# fmt: on


def pretrain_sentence(rng: np.random.Generator) -> str:
    """A read-speech sentence of the pretraining corpus (other templates than the demo's):
    a line of conversation (`CONVERSATION_SHARE` of them), of dialogue or of narration."""
    if rng.random() < CONVERSATION_SHARE:
        templates = _CONVERSATION
    else:
        templates = _DIALOGUE if rng.random() < DIALOGUE_SHARE else _PRETRAIN
    return fill_template(_pick(templates, rng), rng, _PRETRAIN_SLOTS)


def generic_sentence(rng: np.random.Generator) -> str:
    """A sentence of the generic bank (MUSAN-like speech noise: announcements, old books)."""
    return fill_template(_pick(_GENERIC, rng), rng, _GENERIC_SLOTS)
