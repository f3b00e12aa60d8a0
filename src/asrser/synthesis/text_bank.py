"""Sentence banks of the synthetic corpora: template sentences filled from shared word lists.

Three banks, so that the text an encoder is pretrained on differs from the text it is tested on:
- the demo bank (`demo_sentence`): short conversational turns as in IEMOCAP, with emotion cues in
  the wording only part of the time. An emotional utterance uses its emotion's lexicon (ang
  "ridiculous, hate, unacceptable", hap "wonderful, love", sad "miss, lonely, sorry", neu "meeting,
  schedule, Tuesday") in about half of the cases, neutral wording in about a third, and another
  emotion's words (sarcasm, quoting, consoling) in the rest; so neither words nor prosody alone
  decide the class, as in the paper;
- the pretraining bank (`pretrain_sentence`): read speech, lines of conversation and dialogue and
  narration, with its own templates and a larger vocabulary which covers the demo's words in
  other contexts and often enough (as LibriSpeech's audiobooks do for IEMOCAP), so a character
  CTC model pretrained on it can spell the demo's words;
- the generic bank (`generic_sentence`): announcements, reports and old-book prose for the MUSAN
  "speech" noise.
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


def vocabulary(bank: str) -> set[str]:
    """Every word a bank can produce, normalised (upper case): 'demo', 'pretrain' or 'generic'."""
    from asrser.common.text import normalize_transcript

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
