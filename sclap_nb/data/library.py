"""A library of real recorded sounds, built offline from Debian packages.

``python -m sclap_nb.data.library build [--out data/library] [--packages P ...] [--deb FILE ...]``

Each package is fetched with ``apt-get download`` into ``OUT/debs`` (a .deb already there is reused; nothing is
installed) and read as a stream with ``dpkg-deb --fsys-tarfile``. Its version comes from the .deb's control
fields, its licence from ``usr/share/doc/<package>/copyright``: in a machine-readable (DEP-5) file, the
``License:`` of the last ``Files:`` paragraph whose pattern matches the end of the sound's path (``Files: *``
otherwise); a free-form file is recorded as such, with the licence names it mentions.

Sounds are the package's WAV / Ogg / FLAC / MP3 / AIFF files that soundfile reads, and the sounds inside four kinds
of archive that some packages ship: Qt resource bundles (``.rcc``, GCompris), zip archives (``.pk3``, id Tech
games), OpenTTD's ``.cat`` sound sets and Gravis patches (``.pat``, FreePats: every sample of a patch is one
recording). Each is mixed to mono, resampled to 16 kHz, trimmed of leading and trailing silence (frames 40 dB
below the loudest 10 ms frame), cut to at most ``MAX_SECONDS``, and written as 16-bit FLAC; a file that is
silent (loudest frame below -60 dBFS) or shorter than ``MIN_SECONDS`` after trimming is left out.

A sound gets a class from ``RULES``, one table of (package, regular expression on its path, class): the first
rule that matches decides, and ``None`` as the class leaves the sound out on purpose (music, interface
bleeps, fantasy creatures, words). A sound no rule matches is left out and counted, never guessed. The classes
and their captions are ``CLASSES`` (AudioSet ontology names where one fits). Speech is kept small: at most
``SPEECH_CAP`` recordings of a speech class per package; every class is capped at ``PACKAGE_CAP`` recordings
per package (a spread drawn by hash, not the first ones). espeak-ng, itself fetched as .debs and run from
a temporary directory, adds one class of synthetic speech (``--no-espeak`` leaves it out).

Splits (``assign_splits``): whole packages are held out (``heldout``, never heard in training:
``choose_heldout`` adds first the packages that bring the most classes also heard in other packages, until at
least ``MIN_HELDOUT_CLASSES`` classes and ``HELDOUT_MIN_SHARE`` of the recordings are held out); the other
packages' recordings are shared out between train / val / test by group, so that the variants of one sound
(``Kick-Soft``, ``Kick-Hard``; ``bark1``, ``bark2``) stay together.
A recording whose converted audio is identical to an earlier one (the same file in two packages) is listed once.

``OUT/manifest.csv`` lists every recording (``MANIFEST_COLUMNS``), ``OUT/classes.json`` the classes, their
captions and counts, ``OUT/report.json`` what was read, kept and left out per package. Every file is written
atomically. A package that cannot be fetched or read is skipped with a one-line message. Interrupted builds
resume: a package whose results are in ``OUT/packages/<package>.json`` with the same version and rules is not
read again. ``LibrarySource`` reads a built library as a sound source for ``build_corpus``.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import glob
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import FeatureConfig
from ..files import atomic_write, write_json_atomic
from .errors import CorpusError
from .sources import SPLITS, Event, active_crop, frame_rms, normalise_event, read_span

__all__ = [
    "CLASSES",
    "RULES",
    "DEFAULT_PACKAGES",
    "MANIFEST_COLUMNS",
    "LibraryClass",
    "label_of",
    "condition",
    "read_licences",
    "licence_of",
    "iter_sounds",
    "process_package",
    "build_library",
    "assign_splits",
    "choose_heldout",
    "LibrarySource",
    "read_manifest",
]

SAMPLE_RATE = 16000
MIN_SECONDS = 0.2
MAX_SECONDS = 20.0
TRIM_DB = 40.0  # trim the ends quieter than this below the loudest frame
SILENT_DBFS = -60.0  # a file whose loudest frame is below this is silent
FRAME_S = 0.01
PACKAGE_CAP = 40  # recordings of one class from one package
SPEECH_CAP = 20  # recordings of one speech class from one package
MIN_HELDOUT_CLASSES = 30
HELDOUT_MIN_SHARE = 0.10  # of all recordings
HELDOUT_MAX_SHARE = 0.25
SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
LIBRARY_SPLITS = ("train", "val", "test", "heldout")
AUDIO_EXT = (".wav", ".ogg", ".oga", ".flac", ".mp3", ".aiff", ".aif")
ARCHIVE_EXT = (".rcc", ".pk3", ".cat", ".pat")
MANIFEST_COLUMNS = (
    "file", "class", "package", "version", "licence", "sha256", "source_path", "duration_s", "sample_rate",
    "split", "group",
)  # fmt: skip
FORMAT_VERSION = 2


# --------------------------------------------------------------------------------------------------
# The class vocabulary: AudioSet ontology names where one fits (``audioset=True``), plain names otherwise.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryClass:
    name: str
    audioset: bool  # the name is an AudioSet ontology class
    captions: tuple[str, ...]  # paraphrases, none naming a direction
    speech: bool = False


def _k(name: str, audioset: bool, *captions: str, speech: bool = False) -> LibraryClass:
    return LibraryClass(name, audioset, tuple(captions), speech)


CLASSES: tuple[LibraryClass, ...] = (
    # animals
    _k("Dog", True, "a dog barks", "barking of a dog", "a dog is barking"),
    _k("Growling", True, "an animal growls", "a low menacing growl", "a beast snarls and growls"),
    _k("Howl", True, "a wolf howls", "a long howling call", "howling of a canine"),
    _k("Cat", True, "a cat meows", "meowing of a cat", "a cat mews"),
    _k("Horse", True, "a horse neighs", "a horse whinnies", "neighing of a horse"),
    _k("Clip-clop", True, "hooves clip-clop", "a horse trots along", "hoofbeats of a cantering horse"),
    _k("Donkey, ass", True, "a donkey brays", "braying of a donkey", "a donkey hee-haws"),
    _k("Cattle, bovinae", True, "a cow moos", "mooing of cattle", "a cow lows"),
    _k("Pig", True, "a pig oinks", "grunting of a pig", "a pig snorts and squeals"),
    _k("Sheep", True, "a sheep bleats", "bleating of a sheep", "a sheep baas"),
    _k("Goat", True, "a goat bleats", "bleating of a goat", "a goat calls"),
    _k("Chicken, rooster", True, "chickens cluck", "a hen clucks", "clucking of chickens"),
    _k("Crowing, cock-a-doodle-doo", True, "a rooster crows", "a cock crows cock-a-doodle-doo", "crowing of a rooster"),
    _k("Turkey", True, "a turkey gobbles", "gobbling of a turkey", "a turkey calls"),
    _k("Duck", True, "a duck quacks", "quacking of a duck", "a duck calls"),
    _k("Goose", True, "a goose honks", "honking of a goose", "a goose calls"),
    _k("Owl", True, "an owl hoots", "hooting of an owl", "an owl calls"),
    _k("Crow", True, "a crow caws", "cawing of a crow", "a crow calls"),
    _k("Gull, seagull", True, "a seagull cries", "gulls call", "crying of seagulls"),
    _k("Chirp, tweet", True, "a bird chirps", "birds tweet", "chirping of small birds"),
    _k("Bird vocalization, bird call, bird song", True, "a bird sings", "birdsong", "a bird calls"),
    _k("Cuckoo", False, "a cuckoo calls", "cuckoo call", "a cuckoo sings its two notes"),
    _k("Bird flight, flapping wings", True, "wings flap", "a bird flaps its wings", "flapping of wings"),
    _k("Frog", True, "a frog croaks", "frogs croak", "croaking of frogs"),
    _k("Cricket", True, "crickets chirp", "chirping of crickets", "a cricket chirps"),
    _k("Bee, wasp, etc.", True, "a bee buzzes", "buzzing of bees", "an insect buzzes"),
    _k("Mosquito", True, "a mosquito whines", "buzzing of a mosquito", "a mosquito flies by"),
    _k("Insect", True, "an insect chirps", "a grasshopper chirps", "insect noises"),
    _k("Roaring cats (lions, tigers)", True, "a lion roars", "a big cat roars", "roaring of a wild cat"),
    _k("Elephant", False, "an elephant trumpets", "trumpeting of an elephant", "an elephant calls"),
    _k("Primate", False, "a monkey chatters", "an ape calls", "a primate hoots and screeches"),
    _k("Whale vocalization", True, "a whale sings", "whale song", "a whale calls"),
    _k("Dolphin", False, "a dolphin clicks and whistles", "dolphin calls", "a dolphin squeaks"),
    _k("Seal", False, "a seal barks", "barking of a sea lion", "a sea lion calls"),
    _k("Bear", False, "a bear growls", "growling of a bear", "a bear roars"),
    _k("Camel", False, "a camel groans", "a camel grumbles", "a camel calls"),
    _k("Deer", False, "a deer bellows", "a deer calls", "bellowing of a stag"),
    _k("Mouse", True, "a mouse squeaks", "squeaking of a mouse", "a mouse squeals"),
    _k("Bat", False, "a bat squeaks", "bats chitter", "squeaking of bats"),
    _k("Rabbit", False, "a rabbit squeaks", "a rabbit chitters", "squealing of a rabbit"),
    # people
    _k("Male speech, man speaking", True, "a man speaks", "a man says a few words", "male speech", speech=True),
    _k("Female speech, woman speaking", True, "a woman speaks", "a woman says a few words", "female speech", speech=True),
    _k("Speech synthesizer", True, "a synthetic voice speaks", "a computer voice talks", "speech from a speech synthesizer", speech=True),
    _k("Screaming", True, "someone screams", "a person screams loudly", "a scream"),
    _k("Grunt", True, "someone grunts in pain", "a pained grunt", "a short grunt of pain"),
    _k("Laughter", True, "someone laughs", "a person laughs", "laughter"),
    _k("Giggle", True, "someone giggles", "a child giggles", "giggling"),
    _k("Burping, eructation", True, "someone burps", "a loud burp", "burping"),
    _k("Snoring", True, "someone snores", "a person snores", "snoring"),
    _k("Breathing", True, "someone breathes", "breathing sounds", "a person breathes in and out"),
    _k("Heart sounds, heartbeat", True, "a heart beats", "a heartbeat thumps", "the sound of a heartbeat"),
    _k("Whistling", True, "someone whistles", "a person whistles", "whistling"),
    _k("Walk, footsteps", True, "footsteps", "someone walks", "a person's footsteps"),
    _k("Clapping", True, "hands clap", "someone claps", "a hand clap"),
    _k("Finger snapping", True, "fingers snap", "someone snaps their fingers", "a finger snap"),
    _k("Applause", True, "people applaud", "a crowd claps", "applause"),
    _k("Cheering", True, "a crowd cheers", "people cheer", "cheering"),
    _k("Crowd", True, "a crowd reacts", "the noise of a crowd", "a crowd of people makes noise"),
    _k("Choir", True, "a choir sings", "voices sing together", "a choir holds a chord"),
    _k("Biting", True, "someone bites", "a bite", "teeth bite into something"),
    # footsteps on surfaces
    _k("Footsteps on grass", False, "footsteps on grass", "someone walks on grass", "steps through grass"),
    _k("Footsteps on gravel", False, "footsteps on gravel", "someone walks on gravel", "crunching steps on gravel"),
    _k("Footsteps on snow", False, "footsteps in snow", "someone walks through snow", "crunching steps in snow"),
    _k("Footsteps on wood", False, "footsteps on wood", "someone walks on wooden boards", "steps on a wooden floor"),
    _k("Footsteps on metal", False, "footsteps on metal", "someone walks on metal", "clanking steps on metal"),
    _k("Footsteps on stone", False, "footsteps on stone", "someone walks on stone", "steps on a hard stone floor"),
    _k("Footsteps in water", False, "footsteps in water", "someone splashes through water", "wading steps"),
    # instruments
    _k("Piano", True, "a piano plays", "someone plays the piano", "piano notes"),
    _k("Electric piano", True, "an electric piano plays", "someone plays an electric piano", "electric piano notes"),
    _k("Organ", True, "an organ plays", "someone plays the organ", "a pipe organ sounds"),
    _k("Harpsichord", True, "a harpsichord plays", "someone plays the harpsichord", "harpsichord notes"),
    _k("Guitar", True, "a guitar plays", "someone plays a guitar", "guitar notes"),
    _k("Acoustic guitar", True, "an acoustic guitar plays", "someone plays an acoustic guitar", "acoustic guitar notes"),
    _k("Electric guitar", True, "an electric guitar plays", "someone plays an electric guitar", "electric guitar notes"),
    _k("Strum", True, "a guitar chord is strummed", "someone strums a guitar", "a strummed chord"),
    _k("Bass guitar", True, "a bass guitar plays", "someone plays a bass guitar", "low bass guitar notes"),
    _k("Banjo", True, "a banjo plays", "someone plays a banjo", "banjo notes"),
    _k("Sitar", True, "a sitar plays", "someone plays a sitar", "sitar notes"),
    _k("Harp", True, "a harp plays", "someone plucks a harp", "harp notes"),
    _k("Violin, fiddle", True, "a violin plays", "someone plays the violin", "violin notes"),
    _k("Pizzicato", True, "strings are plucked pizzicato", "pizzicato notes", "someone plucks violin strings"),
    _k("Cello", True, "a cello plays", "someone plays the cello", "cello notes"),
    _k("String section", True, "a string section plays", "an ensemble of strings plays", "strings play together"),
    _k("Trumpet", True, "a trumpet plays", "someone plays the trumpet", "trumpet notes"),
    _k("Trombone", True, "a trombone plays", "someone plays the trombone", "trombone notes"),
    _k("French horn", True, "a French horn plays", "someone plays the horn", "French horn notes"),
    _k("Tuba", False, "a tuba plays", "someone plays the tuba", "low tuba notes"),
    _k("Brass instrument", True, "a brass instrument plays", "brass instruments sound", "a brass fanfare"),
    _k("Flute", True, "a flute plays", "someone plays the flute", "flute notes"),
    _k("Recorder", False, "a recorder plays", "someone plays a recorder", "recorder notes"),
    _k("Pan flute", False, "a pan flute plays", "someone plays pan pipes", "pan flute notes"),
    _k("Ocarina", False, "an ocarina plays", "someone plays an ocarina", "ocarina notes"),
    _k("Clarinet", True, "a clarinet plays", "someone plays the clarinet", "clarinet notes"),
    _k("Oboe", False, "an oboe plays", "someone plays the oboe", "oboe notes"),
    _k("Bassoon", False, "a bassoon plays", "someone plays the bassoon", "bassoon notes"),
    _k("Saxophone", True, "a saxophone plays", "someone plays the saxophone", "saxophone notes"),
    _k("Harmonica", True, "a harmonica plays", "someone plays the harmonica", "harmonica notes"),
    _k("Accordion", True, "an accordion plays", "someone plays the accordion", "accordion notes"),
    _k("Marimba, xylophone", True, "a xylophone plays", "someone strikes xylophone bars", "xylophone notes"),
    _k("Glockenspiel", True, "a glockenspiel plays", "someone plays a glockenspiel", "glockenspiel notes"),
    _k("Vibraphone", True, "a vibraphone plays", "someone plays a vibraphone", "vibraphone notes"),
    _k("Tubular bells", True, "tubular bells ring", "someone strikes tubular bells", "a tubular bell chimes"),
    _k("Steelpan", True, "a steel pan plays", "someone plays steel drums", "steel drum notes"),
    _k("Celesta", False, "a celesta plays", "someone plays a celesta", "celesta notes"),
    _k("Dulcimer", False, "a dulcimer plays", "someone plays a hammered dulcimer", "dulcimer notes"),
    _k("Timpani", True, "a timpani drum is struck", "someone plays the timpani", "a kettle drum booms"),
    _k("Bass drum", True, "a bass drum thumps", "someone kicks a bass drum", "a kick drum hit"),
    _k("Snare drum", True, "a snare drum is hit", "someone strikes a snare drum", "a snare drum hit"),
    _k("Rimshot", True, "a rimshot on a snare drum", "someone hits the rim of a drum", "a sharp rim click"),
    _k("Drum roll", True, "a drum rolls", "a drum roll", "someone plays a drum roll"),
    _k("Tom-tom drum", False, "a tom drum is hit", "someone strikes a tom-tom", "a tom drum hit"),
    _k("Hi-hat", True, "a hi-hat is hit", "someone taps a hi-hat", "a hi-hat cymbal ticks"),
    _k("Cymbal", True, "a cymbal crashes", "someone strikes a cymbal", "a cymbal rings"),
    _k("Cowbell", True, "a cowbell is struck", "someone hits a cowbell", "a cowbell clanks"),
    _k("Tambourine", True, "a tambourine jingles", "someone shakes a tambourine", "a tambourine is struck"),
    _k("Maraca", True, "maracas shake", "someone shakes maracas", "a rattling shaker"),
    _k("Wood block", True, "a wood block is struck", "someone taps a wood block", "a hollow wooden knock"),
    _k("Claves", False, "claves click", "someone strikes claves", "two wooden sticks click"),
    _k("Drumsticks", False, "drumsticks click together", "someone clicks drumsticks", "a stick click"),
    _k("Drum", True, "a drum is struck", "someone hits a drum", "a drum beat"),
    _k("Djembe", False, "a djembe is played", "someone slaps a djembe", "a djembe hand drum"),
    _k("Cajon", False, "a cajon is played", "someone slaps a cajon", "a box drum thumps"),
    _k("Conga", False, "a conga drum is hit", "someone plays congas", "a conga slap"),
    _k("Bongo", False, "bongos are played", "someone taps a bongo drum", "a bongo hit"),
    _k("Tabla", True, "a tabla is played", "someone plays tabla", "a tabla drum stroke"),
    _k("Agogo", False, "an agogo bell is struck", "someone plays an agogo", "a metallic agogo clank"),
    _k("Triangle", False, "a triangle rings", "someone strikes a triangle", "a triangle chimes"),
    _k("Castanets", False, "castanets click", "someone plays castanets", "clicking castanets"),
    _k("Gong", True, "a gong is struck", "a gong resounds", "someone strikes a gong"),
    _k("Drum kit", True, "a drum kit plays", "someone plays a drum kit", "a drummer plays a short pattern"),
    _k("Drum machine", True, "a drum machine beat", "an electronic drum plays", "a drum machine sound"),
    _k("Metronome", False, "a metronome ticks", "clicks of a metronome", "a metronome beats time"),
    _k("Wind chime", True, "wind chimes tinkle", "chimes ring in the wind", "a wind chime jingles"),
    _k("Bell", True, "a bell rings", "someone rings a bell", "a bell chimes"),
    _k("Church bell", True, "a church bell tolls", "a large bell rings", "bells toll from a tower"),
    _k("Singing bowl", True, "a singing bowl rings", "a bowl resonates", "a struck bowl hums"),
    _k("Scratching (performance technique)", True, "a record is scratched", "a DJ scratches a record", "vinyl scratching"),
    # nature
    _k("Thunder", True, "thunder rumbles", "a clap of thunder", "thunder booms"),
    _k("Rain", True, "rain falls", "rain pours down", "the sound of rain"),
    _k("Wind", True, "wind blows", "the wind howls", "a gust of wind"),
    _k("Waves, surf", True, "waves crash", "the sea surges", "surf breaks on the shore"),
    _k("Stream", True, "a stream flows", "water burbles", "flowing water"),
    _k("Waterfall", True, "a waterfall roars", "water falls", "the rush of a waterfall"),
    _k("Fire", True, "a fire crackles", "flames burn", "a crackling fire"),
    _k("Rustling leaves", True, "leaves rustle", "a bush rustles", "rustling of foliage"),
    _k("Eruption", True, "a volcano erupts", "an eruption rumbles", "a volcanic blast"),
    _k("Earthquake", False, "the ground shakes and rumbles", "an earthquake rumbles", "a deep seismic rumble"),
    # water and liquids
    _k("Splash, splatter", True, "something splashes", "a splash", "splashing water"),
    _k("Drip", True, "water drips", "a drop falls", "dripping"),
    _k("Bubbles", False, "bubbles gurgle", "bubbling", "air bubbles rise in water"),
    _k("Pour", True, "liquid is poured", "water pours", "someone pours a drink"),
    _k("Steam", True, "steam hisses", "a jet of steam", "hissing steam"),
    _k("Sizzle", True, "something sizzles", "sizzling", "a hot sizzle"),
    _k("Toilet flush", True, "a toilet flushes", "flushing of a toilet", "a toilet is flushed"),
    # vehicles
    _k("Car", True, "a car drives", "a car engine runs", "a car passes"),
    _k("Vehicle horn, car horn, honking", True, "a car horn honks", "someone honks a horn", "a horn beeps"),
    _k("Skidding", True, "tyres skid", "a vehicle skids", "screeching of skidding tyres"),
    _k("Engine starting", True, "an engine starts", "a motor starts up", "an engine turns over and starts"),
    _k("Truck", True, "a truck drives", "a lorry pulls away", "a truck engine rumbles"),
    _k("Bus", True, "a bus pulls away", "a bus drives off", "a bus engine runs"),
    _k("Motorcycle", True, "a motorcycle drives", "a motorbike revs", "a motorcycle engine"),
    _k("Traffic noise, roadway noise", True, "traffic passes", "road traffic noise", "cars drive by on a busy road"),
    _k("Police car (siren)", True, "a police siren wails", "a police car siren", "a siren wails"),
    _k("Fire engine, fire truck (siren)", True, "a fire engine siren", "a fire truck races by with its siren on", "a fire siren wails"),
    _k("Siren", True, "a siren wails", "a warning siren", "a siren sounds"),
    _k("Train", True, "a train runs", "a train passes", "a train rolls along the track"),
    _k("Train horn", True, "a train horn blows", "a locomotive sounds its horn", "a train honks"),
    _k("Train whistle", True, "a steam train whistles", "a train whistle blows", "a locomotive whistle"),
    _k("Railroad crossing", False, "a level crossing bell rings", "a railway crossing signal", "bells of a level crossing"),
    _k("Ship", True, "a ship's horn sounds", "a ship blows its horn", "a ship horn blasts"),
    _k("Boat, Water vehicle", True, "a boat moves on the water", "a motor boat", "a boat engine on the water"),
    _k("Helicopter", True, "a helicopter flies", "helicopter rotor blades", "a helicopter passes"),
    _k("Fixed-wing aircraft, airplane", True, "an airplane flies over", "a plane takes off", "an aircraft engine roars"),
    _k("Jet engine", True, "a jet engine roars", "a jet takes off", "a jet plane passes"),
    _k("Propeller, airscrew", True, "a propeller plane flies", "a propeller aircraft", "a light plane engine"),
    _k("Rocket launch", False, "a rocket launches", "a rocket blasts off", "the roar of a rocket"),
    # home and tools
    _k("Door", True, "a door opens or closes", "a door is opened", "a door shuts"),
    _k("Creak", True, "something creaks", "a creaking", "wood creaks"),
    _k("Knock", True, "someone knocks", "a knock on wood", "knocking"),
    _k("Doorbell", True, "a doorbell rings", "someone rings the doorbell", "a doorbell chimes"),
    _k("Telephone bell ringing", True, "a telephone rings", "a phone is ringing", "an old telephone bell rings"),
    _k("Ringtone", True, "a mobile phone rings", "a ringtone plays", "a phone ringtone"),
    _k("Alarm clock", True, "an alarm clock rings", "an alarm clock goes off", "an alarm clock beeps"),
    _k("Alarm", True, "an alarm sounds", "a warning alarm", "an alarm goes off"),
    _k("Buzzer", True, "a buzzer sounds", "a loud buzz", "an electric buzzer"),
    _k("Tick-tock", True, "a clock ticks", "tick-tock of a clock", "a ticking clock"),
    _k("Clock chime", False, "a clock chimes", "a clock strikes the hour", "a tower clock chimes"),
    _k("Camera", True, "a camera shutter clicks", "someone takes a photo", "a camera clicks"),
    _k("Typewriter", True, "a typewriter types", "someone types on a typewriter", "typewriter keys clack"),
    _k("Typewriter bell", False, "a typewriter bell dings", "the bell of a typewriter", "a typewriter carriage bell"),
    _k("Computer keyboard", True, "someone types on a keyboard", "keyboard keys click", "typing on a computer keyboard"),
    _k("Cash register", True, "a cash register rings", "a till opens", "a cash register"),
    _k("Coin (dropping)", True, "coins jingle", "coins drop", "coins clink"),
    _k("Scissors", True, "scissors snip", "someone cuts with scissors", "scissors open and close"),
    _k("Vacuum cleaner", True, "a vacuum cleaner runs", "someone vacuums", "a vacuum cleaner hums"),
    _k("Washing machine", False, "a washing machine runs", "a washing machine spins", "a washing machine churns"),
    _k("Kettle whistle", False, "a kettle whistles", "a kettle boils and whistles", "a whistling kettle"),
    _k("Chest open or close", False, "a chest lid opens or closes", "a wooden chest is opened", "a box lid shuts"),
    _k("Hammer", True, "a hammer strikes", "someone hammers", "hammering"),
    _k("Sawing", True, "someone saws", "a saw cuts wood", "sawing"),
    _k("Chainsaw", True, "a chainsaw runs", "a chainsaw cuts", "a chainsaw buzzes"),
    _k("Jackhammer", True, "a jackhammer pounds", "a pneumatic drill hammers", "a jackhammer rattles"),
    _k("Drill", True, "a drill whirs", "someone drills", "a power drill"),
    _k("Pickaxe", False, "a pickaxe strikes rock", "someone digs with a pickaxe", "a pick hits stone"),
    _k("Digging", False, "someone digs", "a shovel digs into the ground", "digging in soil"),
    _k("Anvil", False, "a hammer strikes an anvil", "a blacksmith hammers", "metal rings on an anvil"),
    _k("Machine", False, "machinery runs", "an industrial machine", "a machine hums and clanks"),
    _k("Factory", False, "factory noise", "machines in a factory", "industrial noise"),
    _k("Whistle", True, "a whistle blows", "someone blows a whistle", "a shrill whistle"),
    _k("Steam whistle", True, "a steam whistle blows", "a factory whistle", "a steam whistle shrieks"),
    _k("Foghorn", True, "a foghorn sounds", "a foghorn blasts", "a low foghorn"),
    _k("Air horn, truck horn", True, "an air horn blasts", "a loud air horn", "an air horn sounds"),
    _k("Horn signal", False, "a hunting horn sounds", "a horn call", "someone blows a horn signal"),
    _k("Rubber duck", False, "a rubber duck squeaks", "a squeaky toy", "someone squeezes a rubber duck"),
    _k("Electric sparking", False, "electric sparks crackle", "an electric arc buzzes", "electricity crackles"),
    _k("Television static", False, "television static", "static noise", "a detuned television hisses"),
    # impacts and materials
    _k("Glass breaking", False, "glass breaks", "a window shatters", "glass shatters"),
    _k("Glass", True, "glass clinks", "a glass is tapped", "glass chinks"),
    _k("Wood breaking", False, "wood breaks", "wood splinters", "a plank cracks and breaks"),
    _k("Metal breaking", False, "metal breaks", "metal is torn", "a metal object breaks apart"),
    _k("Metal clang", False, "metal clangs", "a metal object is struck", "a metallic bang"),
    _k("Stone impact", False, "stone hits stone", "a rock knocks", "a stony thud"),
    _k("Thump, thud", True, "something thuds", "a dull thump", "a heavy thud"),
    _k("Slap, smack", True, "a slap", "someone slaps", "a smack"),
    _k("Punch", False, "a punch lands", "someone is punched", "a fist hits"),
    _k("Whip", True, "a whip cracks", "someone cracks a whip", "a whip lash"),
    _k("Whoosh, swoosh, swish", True, "something whooshes", "a swoosh through the air", "a swish"),
    _k("Crushing", True, "something is crushed", "a crunch", "crushing"),
    _k("Crash", False, "things crash", "a crash", "a loud collision"),
    _k("Bouncing", True, "something bounces", "a ball bounces", "bouncing"),
    _k("Sliding", False, "something slides", "sliding over the ground", "a scraping slide"),
    _k("Zipper (clothing)", True, "a zipper is pulled", "someone zips a zipper", "a zip"),
    # weapons and blasts
    _k("Gunshot, gunfire", True, "a gun fires", "a gunshot", "someone fires a gun"),
    _k("Machine gun", True, "a machine gun fires", "bursts of machine gun fire", "automatic gunfire"),
    _k("Shotgun", False, "a shotgun fires", "a shotgun blast", "someone fires a shotgun"),
    _k("Cannon", False, "a cannon fires", "a cannon booms", "artillery fires"),
    _k("Gun cocking", False, "a gun is reloaded", "someone cocks a gun", "a weapon is loaded with a click"),
    _k("Explosion", True, "an explosion", "something explodes", "a loud blast"),
    _k("Fireworks", True, "fireworks explode", "fireworks crackle and bang", "fireworks go off"),
    _k("Firecracker", True, "a firecracker bangs", "firecrackers pop", "a cracker explodes"),
    _k("Fuse burning", False, "a fuse fizzes", "a burning fuse hisses", "a lit fuse sputters"),
    _k("Arrow", True, "an arrow flies", "an arrow is shot", "an arrow whizzes"),
    _k("Bow", False, "a bow is shot", "a bowstring twangs", "an archer looses an arrow"),
    _k("Sword", False, "a sword swings", "a sword slices", "a blade clashes"),
    _k("Knife", False, "a knife is drawn", "a blade cuts", "a knife slices"),
    _k("Axe", False, "an axe chops", "someone swings an axe", "an axe strikes"),
)

CLASS_NAMES = {c.name for c in CLASSES}
_CLASS = {c.name: c for c in CLASSES}

# --------------------------------------------------------------------------------------------------
# Labelling rules: (package, regular expression searched in the lower-cased path of the sound, class).
# The first rule that matches decides; class None leaves the sound out on purpose. ``package`` is a
# regular expression on the package name (fully matched). A sound no rule matches is left out.
# --------------------------------------------------------------------------------------------------

def _pkg(package: str, *rules: tuple[str, str | None]) -> tuple[tuple[str, str, str | None], ...]:
    """The rules of one package (``package`` is a regular expression on package names)."""
    return tuple((package, pattern, cls) for pattern, cls in rules)


RULES: tuple[tuple[str, str, str | None], ...] = (
    # GCompris: sounds inside its Qt resource bundles, named after the instrument, animal or thing
    *_pkg(
        "gcompris-qt-data",
        (r"/explore_world_music/|/chronos/|/intro\.ogg$|/core/resource/sounds/", None),  # music, interface
        (r"/instruments/resource/tambourine\.", "Tambourine"),
        (r"/instruments/resource/snare_drum\.", "Snare drum"),
        (r"/instruments/resource/harmonica\.", "Harmonica"),
        (r"/instruments/resource/violin\.", "Violin, fiddle"),
        (r"/instruments/resource/cello\.", "Cello"),
        (r"/instruments/resource/accordion\.", "Accordion"),
        (r"/instruments/resource/bongo\.", "Bongo"),
        (r"/instruments/resource/electric_guitar\.", "Electric guitar"),
        (r"/instruments/resource/guitar\.", "Acoustic guitar"),
        (r"/instruments/resource/banjo\.", "Banjo"),
        (r"/instruments/resource/triangle\.", "Triangle"),
        (r"/instruments/resource/trumpet\.", "Trumpet"),
        (r"/instruments/resource/horn\.", "French horn"),
        (r"/instruments/resource/piano\.", "Piano"),
        (r"/instruments/resource/cymbal\.", "Cymbal"),
        (r"/instruments/resource/harp\.", "Harp"),
        (r"/instruments/resource/timpani\.", "Timpani"),
        (r"/instruments/resource/saxophone\.", "Saxophone"),
        (r"/instruments/resource/maracas\.", "Maraca"),
        (r"/instruments/resource/clarinet\.", "Clarinet"),
        (r"/instruments/resource/tuba\.", "Tuba"),
        (r"/instruments/resource/trombone\.", "Trombone"),
        (r"/instruments/resource/organ\.", "Organ"),
        (r"/instruments/resource/drum_kit\.", "Drum kit"),
        (r"/instruments/resource/castanets\.", "Castanets"),
        (r"/instruments/resource/flute_traversiere\.", "Flute"),
        (r"/animals/owl\.", "Owl"),
        (r"/animals/pig\.", "Pig"),
        (r"/animals/chickens\.", "Chicken, rooster"),
        (r"/animals/cat\.", "Cat"),
        (r"/animals/horse\.", "Horse"),
        (r"/animals/cow\.", "Cattle, bovinae"),
        (r"/animals/dog\.", "Dog"),
        (r"/animals/duck\.", "Duck"),
        (r"/animals/sheep\.", "Sheep"),
        (r"/lrstartandstopcarengine", "Car"),
        (r"/lrbuddhist_gong", "Gong"),
        (r"/guitar_(melody|son\d)\.", "Guitar"),
        (r"/lrfactory_noise", "Factory"),
        (r"/lrdoor_open", "Door"),
        (r"/lrtrain_slowing_down", "Train"),
        (r"/lrbark", "Dog"),
        (r"/lrapplauses", "Applause"),
        (r"/lrheart_beat", "Heart sounds, heartbeat"),
        (r"/lrfrogsinpond", "Frog"),
        (r"/lrrain_in_garden", "Rain"),
        (r"/xylofon_son\d\.", "Marimba, xylophone"),
        (r"/melody/resource/knock\.", "Knock"),
        (r"/clickgame/resource/drip\.", "Drip"),
        (r"/(clickgame|watercycle)/resource/bubble\.", "Bubbles"),
        (r"/guessnumber/resource/helicopter\.", "Helicopter"),
        (r"/mining/resource/pickaxe\.", "Pickaxe"),
        (r"/railroad/resource/sounds/train\.", "Train"),
        (r"/scalesboard/resource/metal_hit\.", "Metal clang"),
        (r"/target/resource/arrow\.", "Arrow"),
        (r"/traffic/resource/car\.", "Car"),
    ),
    # Tux Paint stamps: a stamp's sound is named after the stamp; "_desc" files are spoken descriptions
    *_pkg(
        "tuxpaint-stamps-default",
        (r"_desc[^/]*$", None),  # spoken descriptions, many languages
        (r"/stamps/symbols/", None),  # spoken letters and numbers
        (r"/frog\.", "Frog"),
        (r"/(blackbird|lark|quetzal|tucan|penguin)\.", "Bird vocalization, bird call, bird song"),
        (r"/crow\.", "Crow"),
        (r"/cuckoo\.", "Cuckoo"),
        (r"/(drake|duck)\.", "Duck"),
        (r"/gander\.", "Goose"),
        (r"/hen\.", "Chicken, rooster"),
        (r"/owl\.", "Owl"),
        (r"/rooster\.", "Crowing, cock-a-doodle-doo"),
        (r"/seagull\.", "Gull, seagull"),
        (r"/turkey\.", "Turkey"),
        (r"/(bee|hornet)\.", "Bee, wasp, etc."),
        (r"/grasshopper\.", "Insect"),
        (r"/mosquito\.", "Mosquito"),
        (r"/(chimp|gorilla)\.", "Primate"),
        (r"/dolphin\.", "Dolphin"),
        (r"/(whale|orca)\.", "Whale vocalization"),
        (r"/sea_lion\.", "Seal"),
        (r"/bears/bear\.", "Bear"),
        (r"/(bull|cow|cow_white)\.", "Cattle, bovinae"),
        (r"/(goat|mountaingoat)\.", "Goat"),
        (r"/(ram|sheep|sheep_lamb)\.", "Sheep"),
        (r"/(camel|dromedary)\.", "Camel"),
        (r"/(lion|tiger)\.", "Roaring cats (lions, tigers)"),
        (r"/deer/(deer|doe)\.", "Deer"),
        (r"/dogs/dog\.", "Dog"),
        (r"/mammals/elephant\.", "Elephant"),
        (r"/donkey\.", "Donkey, ass"),
        (r"/equines/horse\.", "Horse"),
        (r"/(pig|pig_golden\d?)\.", "Pig"),
        (r"/rodents/mouse\.", "Mouse"),
        (r"/blackcat\.", "Cat"),
        (r"/camera_35mm\.", "Camera"),
        (r"/cymbal_crash\.", "Cymbal"),
        (r"/drum_tomtom_floor\.", "Tom-tom drum"),
        (r"/percussion/drumkit\.", "Drum kit"),
        (r"/string/cello\.", "Cello"),
        (r"/string/violin\.", "Violin, fiddle"),
        (r"/wind/bassoon\.", "Bassoon"),
        (r"/washing-machine\.", "Washing machine"),
        (r"/scissors_small_(open|closed)\.", "Scissors"),
        (r"/rubberduck\.", "Rubber duck"),
        (r"/toilet\.", "Toilet flush"),
        (r"/tools/hammer\.", "Hammer"),
        (r"/tools/saw\.", "Sawing"),
        (r"/vacuum_cleaner\.", "Vacuum cleaner"),
        (r"/lightningbolt\.", "Thunder"),
        (r"/fireworks\.", "Fireworks"),
        (r"/firetruck\.", "Fire engine, fire truck (siren)"),
    ),
    *_pkg(
        "tuxpaint-data",
        (r"/giggle\.", "Giggle"),
        (r"/typewriterbell\.", "Typewriter bell"),
        (r"/harp\.", "Harp"),
        (r"/bubble\.", "Bubbles"),
    ),
    *_pkg(
        "gamine-data",
        (r"/bubble\.", "Bubbles"),
        (r"/drip\.", "Drip"),
        (r"/brandenburg", None),  # music
    ),
    # Hydrogen's drum kits: one file per drum (and velocity), named after the drum
    *_pkg(
        "hydrogen-data",
        (r"/tr808emulationkit/", "Drum machine"),
        (r"/(emptysample|click)\.", None),
        (r"/24ride|/ride-", "Cymbal"),
        (r"/cowbell", "Cowbell"),
        (r"/crash|/splash", "Cymbal"),
        (r"/handclap", "Clapping"),
        (r"/hat(closed|open|pedal|semiopen)", "Hi-hat"),
        (r"/kick", "Bass drum"),
        (r"/sidestick|/snarerimshot", "Rimshot"),
        (r"/snare", "Snare drum"),
        (r"/tom(1|2|floor)", "Tom-tom drum"),
    ),
    *_pkg(
        "hydrogen-drumkits",  # checked against each kit's drumkit.xml instrument names
        (r"/emptysample|/beats_\d|/[xy]fx_\d|noise-tom|8bit-snare|/ee_click|/ee_drum|/vp (click|drum)\.|fxshake|trimo-", None),
        (r"stomachache|sabmute|crunchtime|zgump__tom|/stick_woody", None),  # used in a kit as another drum
        (r"/(dununba|kenkeni|sangban)\d? bell", None),
        (r"/(dununba|kenkeni|sangban)\d? head", "Drum"),
        (r"/djembe", "Djembe"),
        (r"/cajon", "Cajon"),
        (r"/bongo", "Bongo"),
        (r"/clave", "Claves"),
        (r"/cowbell|/mc_cb\.|misc_cowbell", "Cowbell"),
        (r"/fingersnap", "Finger snapping"),
        (r"clap", "Clapping"),
        (r"/maraca", "Maraca"),
        (r"/tambourine", "Tambourine"),
        (r"/waterglass", "Glass"),
        (r"/woodblock", "Wood block"),
        (r"/agogo", "Agogo"),
        (r"/ee_conga", "Conga"),
        (r"/ee_whistle", "Whistle"),
        (r"/stick-\d", "Drumsticks"),
        (r"/sn3_\d|/sr_\d", "Drum roll"),
        (r"rim|sidestick|/rs_\d", "Rimshot"),
        (r"hi-?hat|hat|(/|_)(hh|chh|ohh)|/ho_\d", "Hi-hat"),
        (r"crash|ride|splash|china|/(rd2?|cb2?|bl|cc|rc)_\d|/cra_", "Cymbal"),
        (r"snare|/sn\d?_\d|_sn_\d|/sd_\d", "Snare drum"),
        (r"kick|bassdrum|/bd[_\d]|_bd_|_k_\d", "Bass drum"),
        (r"tom|/ft_\d|/t[12]_\d|/tm2?_\d", "Tom-tom drum"),
    ),
    *_pkg("hydrogen-drumkits-effects", (r"guitarstrums/", "Strum")),
    # Sonic Pi's samples: named by kind (bd_ bass drum, sn_ snare, drum_, tabla_, guit_, vinyl_ ...)
    *_pkg(
        "sonic-pi-samples",
        (r"/bd_808\.", "Drum machine"),
        (r"/(bd_\w+|drum_bass_\w+|drum_heavy_kick)\.", "Bass drum"),
        (r"/(sn_\w+|drum_snare_\w+)\.", "Snare drum"),
        (r"/drum_cowbell\.", "Cowbell"),
        (r"/drum_cymbal_(closed|open|pedal)\.", "Hi-hat"),
        (r"/(drum_cymbal_(hard|soft)|drum_splash_\w+)\.", "Cymbal"),
        (r"/drum_roll\.", "Drum roll"),
        (r"/drum_tom_\w+\.", "Tom-tom drum"),
        (r"/(tabla_\w+|loop_tabla)\.", "Tabla"),
        (r"/loop_(amen|amen_full|breakbeat)\.", "Drum kit"),
        (r"/guit_\w+\.", "Guitar"),
        (r"/ambi_piano\.", "Piano"),
        (r"/ambi_choir\.", "Choir"),
        (r"/misc_burp\.", "Burping, eructation"),
        (r"/misc_crow\.", "Crow"),
        (r"/perc_bell2?\.", "Bell"),
        (r"/perc_snap2?\.", "Finger snapping"),
        (r"/vinyl_(scratch|backspin|rewind)\.", "Scratching (performance technique)"),
    ),
    # LMMS's samples: folders by kind, files named after the instrument
    *_pkg(
        "lmms-common",
        (r"/samples/(basses|bassloops|shapes|waveforms|stringsnpads)/", None),  # synthesised
        (r"/beats/(909beat|electro_beat|house_loop)", "Drum machine"),
        (r"/beats/break\d", "Drum kit"),
        (r"/beats/rave_hihat", "Hi-hat"),
        (r"/beats/rave_kick", "Bass drum"),
        (r"/beats/rave_snare", "Snare drum"),
        (r"/drums/(bassdrum|kick|nasty_bass)", "Bass drum"),
        (r"/drums/clap", "Clapping"),
        (r"/drums/clav", "Claves"),
        (r"/drums/(crash|ride)", "Cymbal"),
        (r"/drums/hihat", "Hi-hat"),
        (r"/drums/(rim|sidestick|snare_rim|nasty_rim)", "Rimshot"),
        (r"/drums/(snare|nasty_snare)", "Snare drum"),
        (r"/drums/tom", "Tom-tom drum"),
        (r"/drums/wood", "Wood block"),
        (r"/effects/explode", "Explosion"),
        (r"/effects/scratch", "Scratching (performance technique)"),
        (r"/effects/wind_chimes", "Wind chime"),
        (r"/instruments/bassslap", "Bass guitar"),
        (r"/instruments/cello", "Cello"),
        (r"/instruments/(church_organ|e_organ)", "Organ"),
        (r"/instruments/e_piano", "Electric piano"),
        (r"/instruments/flute", "Flute"),
        (r"/instruments/harpsichord", "Harpsichord"),
        (r"/instruments/piano", "Piano"),
        (r"/instruments/steel_guitar_\w*distorted", "Electric guitar"),
        (r"/instruments/steel_guitar", "Guitar"),
        (r"/instruments/trumpet", "Trumpet"),
        (r"/instruments/violin_pizzicato", "Pizzicato"),
        (r"/instruments/violin", "Violin, fiddle"),
        (r"/latin/latin_brass", "Brass instrument"),
        (r"/latin/latin_guitar", "Guitar"),
        (r"/misc/applause", "Applause"),
        (r"/misc/breath", "Breathing"),
        (r"/misc/metronome", "Metronome"),
        (r"/misc/raving_crowd", "Crowd"),
    ),
    # FreePats: one Gravis patch per General MIDI instrument or drum; every sample of it is kept
    *_pkg(
        "freepats",
        (r"/025_snare_roll\.", "Drum roll"),
        (r"/026_snap\.", "Finger snapping"),
        (r"/031_sticks\.", "Drumsticks"),
        (r"/033_metronome_click\.", "Metronome"),
        (r"/drum_000/03[56]_kick", "Bass drum"),
        (r"/037_stick_rim\.", "Rimshot"),
        (r"/drum_000/0(38|40)_snare", "Snare drum"),
        (r"/039_clap_hand\.", "Clapping"),
        (r"_hi-hat_", "Hi-hat"),
        (r"/drum_000/\d+_tom_", "Tom-tom drum"),
        (r"/drum_000/\d+_cymbal_", "Cymbal"),
        (r"/054_tombourine\.", "Tambourine"),
        (r"/056_cow_bell\.", "Cowbell"),
        (r"/drum_000/\d+_bongo_", "Bongo"),
        (r"/drum_000/\d+_conga_", "Conga"),
        (r"/drum_000/\d+_agogo_", "Agogo"),
        (r"/070_maracas\.", "Maraca"),
        (r"/drum_000/\d+_whistle_", "Whistle"),
        (r"/075_claves\.", "Claves"),
        (r"/(drum_000/\d+_wood_block_|tone_000/115_wood_block)", "Wood block"),
        (r"/drum_000/\d+_triangle_", "Triangle"),
        (r"/00[01]_acoustic_\w+_piano\.", "Piano"),
        (r"/00[245]_electric_", "Electric piano"),
        (r"/006_harpsichord\.", "Harpsichord"),
        (r"/008_celesta\.", "Celesta"),
        (r"/009_glockenspiel\.", "Glockenspiel"),
        (r"/013_xylophone\.", "Marimba, xylophone"),
        (r"/014_tubular_bells\.", "Tubular bells"),
        (r"/015_dulcimer\.", "Dulcimer"),
        (r"/01[69]_\w+_organ\.", "Organ"),
        (r"/02[13]_\w*accordion\.", "Accordion"),
        (r"/02[45]_(nylon|steel)_guitar\.", "Acoustic guitar"),
        (r"/0(26|27|28|29|30)_\w+_guitar\.", "Electric guitar"),
        (r"/03[3-7]_\w+_bass(_\d)?\.", "Bass guitar"),
        (r"/040_violin\.", "Violin, fiddle"),
        (r"/042_cello\.", "Cello"),
        (r"/04[48]_\w*strings?_", "String section"),
        (r"/045_pizzicato_strings\.", "Pizzicato"),
        (r"/046_harp\.", "Harp"),
        (r"/047_timpani\.", "Timpani"),
        (r"/053_voice_oohs\.", "Choir"),
        (r"/05[69]_\w*trumpet\.", "Trumpet"),
        (r"/057_trombone\.", "Trombone"),
        (r"/058_tuba\.", "Tuba"),
        (r"/060_french_horn\.", "French horn"),
        (r"/061_brass_section\.", "Brass instrument"),
        (r"/06[4-7]_\w+_sax\.", "Saxophone"),
        (r"/068_oboe\.", "Oboe"),
        (r"/070_bassoon\.", "Bassoon"),
        (r"/071_clarinet\.", "Clarinet"),
        (r"/07[23]_(piccolo|flute)\.", "Flute"),
        (r"/074_recorder\.", "Recorder"),
        (r"/075_pan_flute\.", "Pan flute"),
        (r"/079_ocarina\.", "Ocarina"),
        (r"/104_sitar\.", "Sitar"),
        (r"/114_steel_drums\.", "Steelpan"),
    ),
    # Scorched 3D: environment and vehicle sounds named after their source
    *_pkg(
        "scorched3d-data",
        (r"/birdchirp\d", "Chirp, tweet"),
        (r"/birds\d", "Bird vocalization, bird call, bird song"),
        (r"/bats\d", "Bat"),
        (r"/bees\.", "Bee, wasp, etc."),
        (r"/carhorn\d", "Vehicle horn, car horn, honking"),
        (r"/cessna\.", "Propeller, airscrew"),
        (r"/(cows|moo)\.", "Cattle, bovinae"),
        (r"/dog\d?\.", "Dog"),
        (r"/(f16_\d|f18_\d|jet)\.", "Jet engine"),
        (r"/firetruck\.", "Fire engine, fire truck (siren)"),
        (r"/frogs\.", "Frog"),
        (r"/gull\d", "Gull, seagull"),
        (r"/(helicopter|apache_\d)\.", "Helicopter"),
        (r"/(lightning|lightningbolt|thunder\d?)\.", "Thunder"),
        (r"/machinegun\.", "Machine gun"),
        (r"/oceanwaves\.", "Waves, surf"),
        (r"/policecar\.", "Police car (siren)"),
        (r"/rain\.", "Rain"),
        (r"/rooster\.", "Crowing, cock-a-doodle-doo"),
        (r"/scream(\d|ing)\.", "Screaming"),
        (r"/sheep\.", "Sheep"),
        (r"/shotgun\.", "Shotgun"),
        (r"/splash\.", "Splash, splatter"),
        (r"/wolf\.", "Howl"),
        (r"/cheeringloop\.", "Cheering"),
        (r"/camera\.", "Camera"),
        (r"/factoryloop\d\.", "Factory"),
        (r"/quake\.", "Earthquake"),
        (r"/thud\.", "Thump, thud"),
        (r"/wav/explosions/(small|medium|large|xlarge|exp)\.", "Explosion"),
    ),
    # Minetest: footsteps by surface, digging, doors, fire, water
    *_pkg(
        "minetest-data",
        (r"/default_break_glass\.", "Glass breaking"),
        (r"/default_chest_(open|close)\.", "Chest open or close"),
        (r"/default_dig_cracky\.", "Pickaxe"),
        (r"/default_dig_crumbly\.", "Digging"),
        (r"/default_dig_metal\.", "Metal clang"),
        (r"/default_(dirt|sand)_footstep\.", "Walk, footsteps"),
        (r"/default_grass_footstep\.", "Footsteps on grass"),
        (r"/default_gravel_footstep\.", "Footsteps on gravel"),
        (r"/default_hard_footstep\.", "Footsteps on stone"),
        (r"/default_metal_footstep\.", "Footsteps on metal"),
        (r"/default_snow_footstep\.", "Footsteps on snow"),
        (r"/default_water_footstep\.", "Footsteps in water"),
        (r"/default_wood_footstep\.", "Footsteps on wood"),
        (r"/(doors_\w+|xpanes_steel_bar_door)_(open|close)\.", "Door"),
        (r"/env_sounds_water\.", "Stream"),
        (r"/fire_(fire|large|small)\.", "Fire"),
        (r"/tnt_explode\.", "Explosion"),
        (r"/tnt_gunpowder_burning\.", "Fuse burning"),
    ),
    # UFO: Alien Invasion (sounds in a zip archive): footsteps, breaking, weather, weapons
    *_pkg(
        "ufoai-sound",
        (r"!sound/aliens/|!sound/geoscape/|!sound/ui/|/(laser|plasma|ptl|psiattack|irgoggles|medikit)", None),
        (r"/ambience/arcticwind\.", "Wind"),
        (r"/ambience/cricket_loop\.", "Cricket"),
        (r"/ambience/(fire\d*|firesoft|smallfire)\.", "Fire"),
        (r"/ambience/thunder\d\.", "Thunder"),
        (r"/ambience/tv_static\.", "Television static"),
        (r"/ambience/sparks(_short)?\.", "Electric sparking"),
        (r"/ambience/steam\.", "Steam"),
        (r"/ambience/creak\.|/doors/creak", "Creak"),
        (r"/civfemscream", "Screaming"),
        (r"/(civilians|soldiers)/\w*hurt\d", "Grunt"),
        (r"!sound/doors/door\d-(open|close)\.|/doors/open_close\.", "Door"),
        (r"/footsteps/grass\d", "Footsteps on grass"),
        (r"/footsteps/gravel\d", "Footsteps on gravel"),
        (r"/footsteps/metal\d", "Footsteps on metal"),
        (r"/footsteps/snow\d", "Footsteps on snow"),
        (r"/footsteps/splash\d", "Footsteps in water"),
        (r"/footsteps/stone\d", "Footsteps on stone"),
        (r"/footsteps/wood\d", "Footsteps on wood"),
        (r"/footsteps/(carpet|dirt|sand|tile)\d?\.|/footsteps/linoleum\.", "Walk, footsteps"),
        (r"/impact/water(bullet)?-impact\.", "Splash, splatter"),
        (r"/misc/breakglass\d", "Glass breaking"),
        (r"/misc/breakwood\d", "Wood breaking"),
        (r"/misc/breakmetal\d", "Metal breaking"),
        (r"/seq/sword-hit\.", "Sword"),
        (r"/weapons/bullet-(chaingun|hmg|heavyneedler)-\d+x|/weapons/bullet-smg-(5|15)x", "Machine gun"),
        (r"/weapons/bullet-(pistol2?|rifle(-1x)?|sniper|smg(-1x)?)\.", "Gunshot, gunfire"),
        (r"/weapons/bullet-rifle-\d+x\.", "Machine gun"),
        (r"/weapons/bullet-shotgun(-3x)?\.", "Shotgun"),
        (r"/weapons/explosion(-grenade|-rocket)?\.", "Explosion"),
        (r"/weapons/reload-(pistol|rifle|shotgun|smg|sniper)\.", "Gun cocking"),
        (r"/weapons/melee-swoosh\.", "Whoosh, swoosh, swish"),
    ),
    # OpenArena (sounds in zip archives); its "festivoxmale" voice is the Festival speech synthesizer
    *_pkg(
        "openarena-data",
        (r"/voices/festivoxmale/", "Speech synthesizer"),
        (r"/footsteps/(boot|step)\d", "Walk, footsteps"),
        (r"/footsteps/clank\d", "Footsteps on metal"),
        (r"/footsteps/splash\d", "Footsteps in water"),
        (r"/machinegun/machgf\d", "Machine gun"),
        (r"/shotgun/sshotf", "Shotgun"),
        (r"/rocket/rocklx1a|/items/kam_explode\.", "Explosion"),
        (r"/world/(fire\d|firesoft)\.", "Fire"),
        (r"/world/waterfall\.", "Waterfall"),
        (r"/world/wind\d\.", "Wind"),
        (r"/world/drops\.", "Drip"),
        (r"/world/growl\d\.", "Growling"),
        (r"/player/sarge/pain\d", "Grunt"),
        (r"/player/watr_(in|out)\.", "Splash, splatter"),
    ),
    # OpenTTD's sound set: each sound described inside the archive
    *_pkg(
        "openttd-opensfx",
        (r"!03 factory whistle", "Steam whistle"),
        (r"!0[45] steam (train|engine)", "Train whistle"),
        (r"!0[67] (ship|ferry) horn", "Ship"),
        (r"!08 propeller plane start", "Propeller, airscrew"),
        (r"!(09|59|61) .*jet take off", "Jet engine"),
        (r"!(10|65|71) \w+.* train station departure", "Train horn"),
        (r"!12 electric sparking", "Electric sparking"),
        (r"!13 steam", "Steam"),
        (r"!14 level crossing", "Railroad crossing"),
        (r"!(17|19) (big )?crash", "Crash"),
        (r"!18 explosion", "Explosion"),
        (r"!20 cash till", "Cash register"),
        (r"!24 helicopter", "Helicopter"),
        (r"!2[78] (modern|old) bus start", "Bus"),
        (r"!29 applause", "Applause"),
        (r"!33 jackhammer", "Jackhammer"),
        (r"!35 modern car horn", "Vehicle horn, car horn, honking"),
        (r"!36 sheep", "Sheep"),
        (r"!37 cow", "Cattle, bovinae"),
        (r"!38 horse", "Horse"),
        (r"!40 sawmill", "Sawing"),
        (r"!(52|57) (heavy )?wind", "Wind"),
        (r"!54 lumber mill: crashing tree", "Wood breaking"),
        (r"!56 lumber mill: chainsaw", "Chainsaw"),
        (r"!(66|72) tropical: bird", "Bird vocalization, bird call, bird song"),
        (r"!67 tropical: lion roar", "Roaring cats (lions, tigers)"),
        (r"!68 tropical: monkeys", "Primate"),
    ),
    # Lugaru: a rabbit fighting game's foley
    *_pkg(
        "lugaru-data",
        (r"/sounds/(bark\d?|barkgrowl)\.", "Dog"),
        (r"/sounds/(growl\d?|snarl\d?)\.", "Growling"),
        (r"/sounds/bushrustle\.", "Rustling leaves"),
        (r"/sounds/(fire|firestart|fireend)\.", "Fire"),
        (r"/sounds/footstepgrass\d", "Footsteps on grass"),
        (r"/sounds/footstepsnow\d", "Footsteps on snow"),
        (r"/sounds/footstepstone\d", "Footsteps on stone"),
        (r"/sounds/hawk\.", "Bird vocalization, bird call, bird song"),
        (r"/sounds/(knifedraw|knifesheathe|knifeslice|knifeswish)\.", "Knife"),
        (r"/sounds/(highwhoosh|lowwhoosh|midwhoosh|movewhoosh|whoosh)\.", "Whoosh, swoosh, swish"),
        (r"/sounds/(clank\d|metalhit)\.", "Metal clang"),
        (r"/sounds/(rabbitchitter\d?|rabbitpain\d?)\.", "Rabbit"),
        (r"/sounds/swordslice\.", "Sword"),
        (r"/sounds/(thud|heavyimpact)\.", "Thump, thud"),
        (r"/sounds/wind\.", "Wind"),
        (r"/sounds/(skid|snowskid)\.", "Sliding"),
        (r"/sounds/alarm\.", "Alarm"),
    ),
    # Wesnoth: unit attack and hit sounds; fantasy creatures and magic are left out
    *_pkg(
        "wesnoth-1\\.\\d+-data",
        (r"/sounds/axe\.|/sounds/hatchet\.", "Axe"),
        (r"/sounds/bell\.", "Bell"),
        (r"/sounds/bite\.", "Biting"),
        (r"/sounds/bow(-miss|-puny(-miss)?)?\.", "Bow"),
        (r"/sounds/campfire\.|/sounds/fire\.", "Fire"),
        (r"/sounds/dagger-swish\.", "Whoosh, swoosh, swish"),
        (r"/sounds/explosion\.", "Explosion"),
        (r"/sounds/fuse\.", "Fuse burning"),
        (r"/sounds/(gunshot|thunderstick)\.", "Gunshot, gunfire"),
        (r"/sounds/horse-canter\.", "Clip-clop"),
        (r"/sounds/horse-(die|hit-\d)\.", "Horse"),
        (r"/sounds/human(-female|-old)?-hit-\d\.", "Grunt"),
        (r"/sounds/knife\.", "Knife"),
        (r"/sounds/sword-\d\.", "Sword"),
        (r"/sounds/wolf-growl-\d\.", "Growling"),
        (r"/sounds/wardrums\.", "Drum"),
        (r"/horn-signals/horn-\d\.", "Horn signal"),
        (r"/sounds/(lightning|rumble)\.", "Thunder"),
        (r"/ambient/birds\d\.", "Bird vocalization, bird call, bird song"),
    ),
    # Micropolis: city sounds
    *_pkg(
        "micropolis-data",
        (r"/sounds/cuckoo\.", "Cuckoo"),
        (r"/sounds/explosion-(hi|high|low)\.", "Explosion"),
        (r"/sounds/honkhonk-", "Vehicle horn, car horn, honking"),
        (r"/sounds/(quack|quackquack)\.", "Duck"),
        (r"/sounds/siren\.", "Siren"),
        (r"/sounds/skid\.", "Skidding"),
        (r"/sounds/heavytraffic\.", "Traffic noise, roadway noise"),
        (r"/sounds/whip\.", "Whip"),
        (r"/sounds/rumble\.", "Earthquake"),
    ),
    # Word War vi: impacts and blasts
    *_pkg(
        "wordwarvi-sound",
        (r"/metalbang\d\.", "Metal clang"),
        (r"/stonebang\d\.", "Stone impact"),
        (r"/(big_explosion|bombexplosion|missile_explosion)\.", "Explosion"),
        (r"/fallingscreamhi\.", "Screaming"),
        (r"/toyota_celica_cardoor_sample\.", "Door"),
        (r"/us_quarter\.", "Coin (dropping)"),
        (r"/volcano_eruption\.", "Eruption"),
        (r"/missile_alarm(_2)?\.", "Alarm"),
        (r"/timpani_boing\.", "Timpani"),
    ),
    *_pkg(
        "lincity-ng-data",
        (r"/sounds/(fire\d|firewasteland\d)\.", "Fire"),
        (r"/sounds/railtrain\d\.", "Train"),
        (r"/sounds/rockettakeoff\d\.|/sounds/rocket\d\.", "Rocket launch"),
        (r"/sounds/rocketexplosion\d\.", "Explosion"),
        (r"/sounds/sportscroud\d\.", "Cheering"),
        (r"/sounds/trafichigh\d\.", "Traffic noise, roadway noise"),
        (r"/sounds/blacksmith\d\.", "Anvil"),
        (r"/sounds/coalmine\d\.|/sounds/oremine\d\.", "Machine"),
    ),
    *_pkg(
        "freedink-data",
        (r"/sound/arrow\.", "Arrow"),
        (r"/sound/axe\.", "Axe"),
        (r"/sound/bird1\.", "Chirp, tweet"),
        (r"/sound/bow1\.", "Bow"),
        (r"/sound/fire\.", "Fire"),
        (r"/sound/punch\.", "Punch"),
        (r"/sound/(swing|sword2)\.", "Sword"),
        (r"/sound/wscream\.", "Screaming"),
        (r"/sound/grunt\d\.", "Grunt"),
    ),
    *_pkg(
        "heroes-sound-effects",
        (r"/sfx/clock0\d\.", "Tick-tock"),
        (r"/sfx/coins\.|/sfx/argent01\.", "Coin (dropping)"),
        (r"/sfx/claxon\.", "Vehicle horn, car horn, honking"),
        (r"/sfx/foule\d\.", "Crowd"),
        (r"/sfx/explo01\.", "Explosion"),
    ),
    # desktop sound themes: only the sounds named after a real-world source
    *_pkg(
        "sound-theme-freedesktop",
        (r"/alarm-clock-elapsed\.", "Alarm clock"),
        (r"/bell\.", "Bell"),
        (r"/camera-shutter\.|/screen-capture\.", "Camera"),
        (r"/phone-incoming-call\.", "Telephone bell ringing"),
    ),
    *_pkg("yaru-theme-sound", (r"/bell\.", "Bell")),
    *_pkg("deepin-sound-theme", (r"/camera-shutter\.|/screen-capture\.", "Camera")),
    *_pkg(
        "oxygen-sounds",
        (r"/oxygen-im-phone-ring\.", "Ringtone"),
        (r"/oxygen-sys-trash-emptied\.", "Crushing"),
    ),
    *_pkg(
        "lomiri-sounds",
        (r"/camera/click/", "Camera"),
        (r"/ringtones/alarm clock\.", "Alarm clock"),
        (r"/ringtones/wind chime\.", "Wind chime"),
        (r"/ringtones/(glass marimba|marimbach)\.", "Marimba, xylophone"),
        (r"/ringtones/melody piano\.", "Piano"),
        (r"/ringtones/harp arp\.", "Harp"),
        (r"/ringtones/tongue drum\.", "Drum"),
        (r"/notifications/xylo\.", "Marimba, xylophone"),
        (r"/notifications/rhodes\.", "Electric piano"),
    ),
    # sound-icons: short instrument notes named after the instrument (Czech names)
    *_pkg(
        "sound-icons",
        (r"/cembalo-\d+\.|/klavichord-\d\.", "Harpsichord"),
        (r"/electric-piano-\d\.", "Electric piano"),
        (r"/guitar-\d+\.", "Guitar"),
        (r"/piano-\d\.", "Piano"),
        (r"/trumpet-\d+\.", "Trumpet"),
        (r"/violoncello-\d\.", "Cello"),
        (r"/xylofon\.", "Marimba, xylophone"),
        (r"/cymbaly-\d\.", "Dulcimer"),
        (r"/canary-long\.", "Chirp, tweet"),
        (r"/glass-water-\d\.", "Glass"),
    ),
    # speech: the folder names the speaker (f = female, male1, female2 ...); words and prompts
    *_pkg(
        "asterisk-core-sounds-en(-wav)?",
        (r"/silence/|/beep|/ascending-|/descending-|tone\.wav$", None),
        (r"/en_us_f_allison/", "Female speech, woman speaking"),
    ),
    *_pkg(
        "kajongg",
        (r"/voices/(de/)?female\d/", "Female speech, woman speaking"),
        (r"/voices/(de/)?male\d/", "Male speech, man speaking"),
    ),
    # small game packages
    *_pkg(
        "tuxmath-data|tuxtype-data",
        (r"/sounds/cheer\.", "Cheering"),
        (r"/sounds/explosion\.", "Explosion"),
        (r"/sounds/alarm\.", "Alarm"),
        (r"/sounds/towerclock\.", "Clock chime"),
        (r"/sounds/tock\.", "Tick-tock"),
        (r"/sounds/sizzling\.", "Sizzle"),
        (r"/sounds/buzz\.", "Buzzer"),
    ),
    *_pkg(
        "frozen-bubble-data",
        (r"/snd/applause\.", "Applause"),
        (r"/snd/snore\.", "Snoring"),
        (r"/snd/typewriter\.", "Typewriter"),
    ),
    *_pkg("foobillardplus-data", (r"/applause\.", "Applause"), (r"/ooh\.", "Crowd")),
    *_pkg(
        "freeciv-data",
        (r"/(lrgcan|medcan)\.", "Cannon"),
        (r"/(lrgexpl|smlexpl)\.", "Explosion"),
        (r"/(mgbar\d|mgheavy)\.", "Machine gun"),
        (r"/splash\.", "Splash, splatter"),
        (r"/foot3\.", "Walk, footsteps"),
        (r"/woodbrk\.", "Wood breaking"),
        (r"/metbrk\.", "Metal breaking"),
    ),
    *_pkg("extremetuxracer-data", (r"/sounds/tree_hit\.", "Thump, thud")),
    *_pkg("pingus-data", (r"/sounds/splash\.", "Splash, splatter")),
)

#: the packages of the default build, in the order their recordings take precedence over duplicates
DEFAULT_PACKAGES: tuple[str, ...] = (
    "gcompris-qt-data", "tuxpaint-stamps-default", "tuxpaint-data", "hydrogen-data", "hydrogen-drumkits",
    "hydrogen-drumkits-effects", "sonic-pi-samples", "lmms-common", "freepats", "scorched3d-data", "minetest-data",
    "ufoai-sound", "openarena-data", "openttd-opensfx", "lugaru-data", "wesnoth-1.16-data", "micropolis-data",
    "wordwarvi-sound", "lincity-ng-data", "freedink-data", "heroes-sound-effects", "sound-theme-freedesktop",
    "yaru-theme-sound", "deepin-sound-theme", "oxygen-sounds", "lomiri-sounds", "sound-icons",
    "asterisk-core-sounds-en-wav", "kajongg", "tuxmath-data", "tuxtype-data", "frozen-bubble-data",
    "foobillardplus-data", "freeciv-data", "extremetuxracer-data", "pingus-data", "gamine-data",
)  # fmt: skip



class PackageError(RuntimeError):
    """A package that cannot be fetched or read (the build skips it with this message)."""


def _rule_table() -> list[tuple[re.Pattern, re.Pattern, str | None]]:
    out = []
    for i, (pkg, pattern, cls) in enumerate(RULES):
        if cls is not None and cls not in CLASS_NAMES:
            raise ValueError(f"RULES[{i}] ({pkg!r}, {pattern!r}): unknown class {cls!r}")
        out.append((re.compile(pkg), re.compile(pattern), cls))
    return out


_COMPILED: list | None = None


def label_of(package: str, source_path: str) -> tuple[bool, str | None]:
    """``(matched, class)`` of a sound: the class of the first rule of ``RULES`` whose package pattern
    matches ``package`` and whose path pattern is found in the lower-cased ``source_path``;
    ``(True, None)`` when that rule leaves it out on purpose, ``(False, None)`` when no rule matches."""
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = _rule_table()
    low = source_path.lower()
    for pkg, pattern, cls in _COMPILED:
        if pkg.fullmatch(package) and pattern.search(low):
            return True, cls
    return False, None


def _rules_of(package: str) -> list:
    return [r for r in RULES if re.fullmatch(r[0], package)]


# --------------------------------------------------------------------------------------------------
# Fetching and reading packages
# --------------------------------------------------------------------------------------------------


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, check=False, **kw)
    except FileNotFoundError as e:
        raise PackageError(f"{cmd[0]} is not installed") from e


def _last_line(b: bytes) -> str:
    lines = [ln.strip() for ln in b.decode(errors="replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


def deb_field(deb: str | os.PathLike, field: str) -> str:
    """A control field (``Package``, ``Version``) of a .deb file."""
    r = _run(["dpkg-deb", "-f", str(deb), field])
    if r.returncode:
        raise PackageError(f"{deb}: not a readable .deb ({_last_line(r.stderr)})")
    return r.stdout.decode().strip()


def unpack_deb(deb: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Unpack a .deb's files into ``dest`` (``dpkg-deb -x``; nothing is installed). ``PackageError`` on failure."""
    r = _run(["dpkg-deb", "-x", str(deb), str(dest)])
    if r.returncode:
        raise PackageError(f"{deb}: dpkg-deb -x failed ({_last_line(r.stderr)})")
    return Path(dest)


def fetch_deb(package: str, cache: str | os.PathLike) -> Path:
    """The .deb of ``package`` in ``cache``: one already there is reused, else ``apt-get download``
    fetches it (nothing is installed). ``PackageError`` when apt cannot fetch it."""
    cache = Path(cache)
    found = [p for p in cache.glob(f"{glob.escape(package)}_*.deb") if p.is_file()]
    found = [p for p in found if p.name.split("_", 1)[0] == package]
    if found:
        return max(found, key=lambda p: p.stat().st_mtime)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=cache))
    try:
        r = _run(["apt-get", "download", "-q", package], cwd=tmp)
        debs = sorted(tmp.glob("*.deb"))
        if r.returncode or not debs:
            raise PackageError(f"apt-get download {package} failed: {_last_line(r.stderr)}")
        target = cache / debs[0].name
        os.replace(debs[0], target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _tar_members(deb: Path, want) -> Iterator[tuple[str, tarfile.TarInfo, bytes | None]]:
    """``(path, info, bytes)`` of the members of a .deb's data archive for which ``want(path, info)``
    is true (bytes None for a link), read as a stream (nothing is unpacked to disk)."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stopped = False
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for info in tar:
                name = info.name[2:] if info.name.startswith("./") else info.name.lstrip("/")
                if not want(name, info):
                    continue
                data = tar.extractfile(info).read() if info.isfile() else None
                yield name, info, data
    except GeneratorExit:
        stopped = True
        raise
    except tarfile.TarError as e:
        raise PackageError(f"{deb}: cannot read its data archive ({e})") from e
    finally:
        if stopped:
            proc.kill()
        proc.stdout.close()
        err = proc.stderr.read()
        proc.stderr.close()
        rc = proc.wait()
        if rc and not stopped:
            raise PackageError(f"{deb}: dpkg-deb --fsys-tarfile failed ({_last_line(err)})")


# --------------------------------------------------------------------------------------------------
# Licences
# --------------------------------------------------------------------------------------------------

_GPL = r"(?<!lesser )general public license,? (?:as published by the free software foundation[;,]? )?(?:either )?version {v}"
_FREEFORM_LICENCES = (
    (r"lesser general public license|\blgpl", "LGPL"),
    (_GPL.format(v="2") + r"(?: of the license)?,? (?:or \(at your option\) )?any later version|\bgpl-?v?2\+", "GPL-2+"),
    (_GPL.format(v="2") + r"|\bgpl-?v?2\b", "GPL-2"),
    (_GPL.format(v="3") + r"(?: of the license)?,? (?:or \(at your option\) )?any later version|\bgpl-?v?3\+", "GPL-3+"),
    (_GPL.format(v="3") + r"|\bgpl-?v?3\b", "GPL-3"),
    (r"(?<!lesser )general public license", "GPL (version not stated)"),
    (r"attribution[- ]share ?alike|cc-by-sa", "CC-BY-SA"),
    (r"creative commons attribution(?![- ]share)|cc-by(?!-sa)", "CC-BY"),
    (r"\bcc0\b|creative commons zero", "CC0"),
    (r"public domain", "public-domain"),
    (r"artistic license", "Artistic"),
    (r"\bbsd\b", "BSD"),
    (r"\bexpat\b|\bmit license", "MIT"),
)


def freeform_licences(text: str) -> list[str]:
    """The licences a free-form copyright text names (``GPL-2+`` rather than ``GPL-2`` when it says
    "or any later version"; a bare "GNU General Public License" only when no version is named)."""
    low = " ".join(text.lower().split())
    names = [name for pattern, name in _FREEFORM_LICENCES if re.search(pattern, low)]
    for v in ("2", "3"):
        if f"GPL-{v}+" in names and f"GPL-{v}" in names:
            names.remove(f"GPL-{v}")
    if any(n.startswith("GPL-") for n in names) and "GPL (version not stated)" in names:
        names.remove("GPL (version not stated)")
    return names


def short_licence(text: str) -> str:
    """A licence written out in words ("Creative Commons Attribution 3.0 Unported") as its short name."""
    t = " ".join(text.split())
    for pattern, short in (
        (r"creative commons attribution[- ]share-?alike (\d\.\d)", "CC-BY-SA-{}"),
        (r"creative commons attribution (\d\.\d)", "CC-BY-{}"),
        (r"creative commons zero (\d\.\d)", "CC0-{}"),
    ):
        m = re.fullmatch(pattern + r"(?: unported| international)?", t, re.IGNORECASE)
        if m:
            return short.format(m.group(1))
    return t


def dep5_paragraphs(text: str) -> list[dict[str, str]]:
    """The paragraphs of a copyright file as ``{field: value}``, field names as written, a value's
    continuation lines kept (right-stripped) after a newline; comment lines skipped."""
    out = []
    for para in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in para.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.rstrip()
            elif ":" in line and not line.startswith("#"):
                key, _, value = line.partition(":")
                key = key.strip()
                fields[key] = value.strip()
        out.append(fields)
    return out


def read_licences(text: str) -> list[tuple[tuple[str, ...], str]] | None:
    """The ``(Files patterns, License)`` paragraphs of a machine-readable (DEP-5) copyright file, in
    order; ``None`` when ``text`` is not one."""
    if not re.search(r"(?im)^format:\s*\S*(copyright-format|dep5)", text):
        return None
    out = []
    for para in dep5_paragraphs(text):
        fields = {k.lower(): v for k, v in para.items()}
        if "files" in fields and "license" in fields:
            licence = fields["license"].split("\n", 1)[0].strip()
            if licence:
                out.append((tuple(fields["files"].split()), licence))
    return out


def _pattern_matches(pattern: str, path: str) -> bool:
    """Whether a DEP-5 ``Files`` pattern (``*`` also crosses ``/``) matches ``path`` or one of its
    ends that starts at a directory boundary (installed paths differ from the source tree's)."""
    if pattern == "*":
        return True
    regex = re.compile(fnmatch.translate(pattern.lstrip("./")))
    parts = path.split("/")
    return any(regex.match("/".join(parts[i:])) for i in range(len(parts)))


def licence_of(paragraphs: list[tuple[tuple[str, ...], str]], path: str) -> str | None:
    """The licence of the last paragraph whose pattern matches ``path`` (DEP-5: the last match wins)."""
    found = None
    for patterns, licence in paragraphs:
        if any(_pattern_matches(p, path) for p in patterns):
            found = licence
    return found


@dataclass
class _Licensing:
    paragraphs: list | None  # DEP-5 paragraphs, or None
    summary: str  # what the package's copyright says, in a few words

    def of(self, virtual_path: str) -> str:
        if self.paragraphs:
            return licence_of(self.paragraphs, virtual_path) or self.summary
        return self.summary


def _licensing(package: str, text: str | None, note: str = "") -> _Licensing:
    where = f"usr/share/doc/{package}/copyright"
    if text is None:
        return _Licensing(None, f"unstated ({where} {note or 'is not in the package'})")
    paragraphs = read_licences(text)
    if paragraphs:
        default = licence_of([p for p in paragraphs if "*" in p[0]], "x") or paragraphs[0][1]
        return _Licensing(paragraphs, default)
    names = freeform_licences(text)
    return _Licensing(None, f"free-form copyright file naming: {', '.join(names) or 'no licence'} (see {where})")


# --------------------------------------------------------------------------------------------------
# Sounds inside archives
# --------------------------------------------------------------------------------------------------


@dataclass
class Sound:
    """One candidate recording: where it is in the package and its bytes (or decoded samples)."""

    source_path: str  # installed path, "container!member" inside an archive, "file.pat#i" for a patch sample
    virtual_path: str  # the path a copyright pattern is matched against
    data: bytes | None = None  # a file soundfile reads
    audio: np.ndarray | None = None  # or decoded samples (patches)
    sample_rate: int = 0
    licence: str | None = None  # stated by the archive itself (OpenTTD sound sets)
    group: str | None = None  # recordings that share a source (see assign_splits)


def _rcc_files(blob: bytes) -> Iterator[tuple[str, bytes]]:
    """``(path, bytes)`` of the files in a Qt resource bundle (``.rcc``, format versions 1-3)."""
    if blob[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    node = 22 if version >= 2 else 14

    def name(off: int) -> str:
        n = struct.unpack(">H", blob[names + off : names + off + 2])[0]
        return blob[names + off + 6 : names + off + 6 + 2 * n].decode("utf-16-be")

    stack = [(0, "")]
    while stack:
        i, prefix = stack.pop()
        p = tree + i * node
        name_off, flags = struct.unpack(">IH", blob[p : p + 6])
        here = f"{prefix}{name(name_off)}" if i else ""
        if flags & 2:  # directory
            count, first = struct.unpack(">II", blob[p + 6 : p + 14])
            stack.extend((first + c, f"{here}/" if i else "") for c in range(count))
            continue
        off = data + struct.unpack(">I", blob[p + 10 : p + 14])[0]
        size = struct.unpack(">I", blob[off : off + 4])[0]
        raw = blob[off + 4 : off + 4 + size]
        if flags & 1:  # zlib, behind a 4-byte length
            raw = zlib.decompress(raw[4:])
        elif flags & 4:  # zstd
            try:
                import zstandard  # optional: only Qt 6 bundles use it
            except ImportError:
                continue
            raw = zstandard.ZstdDecompressor().decompress(raw)
        yield here, raw


def _cat_sounds(blob: bytes) -> Iterator[tuple[int, str, bytes]]:
    """``(index, description, wav bytes)`` of an OpenTTD sound set (``.cat``)."""
    n = (struct.unpack("<I", blob[:4])[0] & 0x7FFFFFFF) // 8
    first = struct.unpack("<I", blob[:4])[0] & 0x7FFFFFFF
    if not n or blob[first + 1 + blob[first] : first + 5 + blob[first]] != b"RIFF":
        raise ValueError("not an OpenTTD sound set")
    for i in range(n):
        off, size = struct.unpack("<II", blob[8 * i : 8 * i + 8])
        off &= 0x7FFFFFFF
        length = blob[off]
        name = blob[off + 1 : off + 1 + length].rstrip(b"\0").decode("latin-1")
        yield i, name, blob[off + 1 + length : off + size]


def _pat_samples(blob: bytes) -> Iterator[tuple[np.ndarray, int]]:
    """``(samples, rate)`` of every sample of a Gravis patch (``.pat``)."""
    if not blob.startswith((b"GF1PATCH110\0", b"GF1PATCH100\0")):
        raise ValueError("not a Gravis patch")
    n, p = blob[198], 239
    for _ in range(n):
        head = blob[p : p + 96]
        size, _, _, rate = struct.unpack("<IIIH", head[8:22])
        modes = head[55]
        raw = blob[p + 96 : p + 96 + size]
        p += 96 + size
        if modes & 1:
            x = np.frombuffer(raw[: len(raw) // 2 * 2], "<u2" if modes & 2 else "<i2").astype(np.float32)
            x = (x - 32768.0 if modes & 2 else x) / 32768.0
        else:
            x = np.frombuffer(raw, np.uint8 if modes & 2 else np.int8).astype(np.float32)
            x = (x - 128.0 if modes & 2 else x) / 128.0
        yield x, int(rate)


def iter_sounds(path: str, data: bytes) -> Iterator[Sound]:
    """The candidate recordings of one package member: itself (an audio file) or what it holds."""
    low = path.lower()
    base = path.rsplit("/", 1)[0] if "/" in path else ""
    if low.endswith(AUDIO_EXT):
        yield Sound(path, path, data=data)
    elif low.endswith(".pk3"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for m in z.namelist():
                if m.lower().endswith(AUDIO_EXT):
                    yield Sound(f"{path}!{m}", f"{base}/{m}", data=z.read(m))
    elif low.endswith(".rcc"):
        for m, raw in _rcc_files(data):
            if m.lower().endswith(AUDIO_EXT):
                yield Sound(f"{path}!{m}", f"{base}/{m}", data=raw)
    elif low.endswith(".cat"):
        for i, desc, raw in _cat_sounds(data):
            title = desc.split(". ")[0].strip().strip('"')
            lic = re.search(r"License: ([^.]+(?:\.\d[^.]*)?)\.", desc)
            orig = re.search(r'Original "?([^"]+?)"? by', desc)
            yield Sound(
                f"{path}!{i:02d} {title}", path, data=raw, licence=short_licence(lic.group(1)) if lic else None,
                group=f"{path}!{orig.group(1)}" if orig else None,
            )
    elif low.endswith(".pat"):
        for i, (x, rate) in enumerate(_pat_samples(data)):
            yield Sound(f"{path}#{i}", path, audio=x, sample_rate=rate, group=path)


# --------------------------------------------------------------------------------------------------
# Conditioning one recording
# --------------------------------------------------------------------------------------------------


def decode(sound: Sound) -> tuple[np.ndarray, int]:
    """The samples (float32, frames x channels or 1-D) and rate of a candidate recording."""
    if sound.audio is not None:
        return sound.audio, sound.sample_rate
    import soundfile as sf

    x, sr = sf.read(io.BytesIO(sound.data), dtype="float32", always_2d=True)
    return x, int(sr)


def _resample(x: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """``x`` resampled with soxr (librosa's high-quality resampler, imported alone: librosa is slow to import)."""
    try:
        import soxr  # a dependency of librosa
    except ImportError:
        import librosa

        return librosa.resample(x, orig_sr=rate, target_sr=target_rate, res_type="soxr_hq").astype(np.float32)
    return soxr.resample(x, rate, target_rate, quality="HQ").astype(np.float32)


def condition(audio: np.ndarray, sample_rate: int, target_rate: int = SAMPLE_RATE) -> tuple[np.ndarray | None, str | None]:
    """Mono at ``target_rate``, leading and trailing silence trimmed, at most ``MAX_SECONDS``:
    ``(samples, None)``, or ``(None, reason)`` for a file that is silent, not finite or shorter than
    ``MIN_SECONDS`` once trimmed."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if not len(x):
        return None, "empty"
    if not np.isfinite(x).all():
        return None, "not finite"
    if sample_rate != target_rate:
        x = _resample(x, sample_rate, target_rate)
    hop = max(1, int(round(FRAME_S * target_rate)))
    rms = frame_rms(x, hop)
    loud = float(rms.max()) if len(rms) else 0.0
    if loud < 10 ** (SILENT_DBFS / 20):
        return None, "silent"
    active = np.flatnonzero(rms >= loud * 10 ** (-TRIM_DB / 20))
    margin = 2 * hop
    y = x[max(0, active[0] * hop - margin) : min(len(x), (active[-1] + 1) * hop + margin)]
    if len(y) < MIN_SECONDS * target_rate:
        return None, "too short"
    y = y[: int(MAX_SECONDS * target_rate)].copy()
    fade = min(len(y) // 4, int(0.005 * target_rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        y[:fade] *= ramp
        y[-fade:] *= ramp[::-1]
    peak = float(np.abs(y).max())
    if peak > 0.999:
        y *= 0.999 / peak
    return y, None


def _flac_bytes(y: np.ndarray, rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, y, rate, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


_VARIANT = re.compile(r"(?:[ _.-]+(?:hardest|hard|medium|med|softest|soft|loud|quiet|cut|la|v?\d+[a-z]?)|\d+)+$")


def variant_stem(source_path: str) -> str:
    """The name a sound's variants share: its file name without extension, take or velocity suffix
    (``Kick-Hard`` and ``Kick-Soft`` give ``kick``; ``bark1``, ``bark2`` give ``bark``)."""
    name = re.split(r"[!#]", source_path)[-1] if "#" not in source_path else source_path.rsplit("#", 1)[0]
    name = name.rsplit("/", 1)[-1].lower()
    name = re.sub(r"\.[a-z0-9]{2,4}$", "", name)
    stem = _VARIANT.sub("", name)
    return stem or name


# --------------------------------------------------------------------------------------------------
# One package
# --------------------------------------------------------------------------------------------------

_SETTINGS = {
    "format_version": FORMAT_VERSION, "sample_rate": SAMPLE_RATE, "min_seconds": MIN_SECONDS, "max_seconds": MAX_SECONDS,
    "trim_db": TRIM_DB, "silent_dbfs": SILENT_DBFS, "package_cap": PACKAGE_CAP, "speech_cap": SPEECH_CAP,
}  # fmt: skip


def _fingerprint(package: str, version: str) -> str:
    classes = sorted({c for _, _, c in _rules_of(package) if c})
    blob = json.dumps(
        [_SETTINGS, version, _rules_of(package), [(_CLASS[c].name, _CLASS[c].speech) for c in classes]], sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _cap_key(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


def _copyright(deb: Path, package: str) -> _Licensing:
    """The licensing of a package, from its copyright file (read first: sounds need it)."""
    doc = f"usr/share/doc/{package}"
    for name, info, data in _tar_members(deb, lambda n, i: n in (f"{doc}/copyright", doc)):
        if info.issym() or info.islnk():
            return _licensing(package, None, f"links to {info.linkname}")
        if name.endswith("/copyright") and data is not None:
            return _licensing(package, data.decode("utf-8", errors="replace"))
    return _licensing(package, None)


def process_package(deb: str | os.PathLike, out: str | os.PathLike, progress=print) -> dict:
    """Read one .deb and write its labelled recordings under ``out/audio/<package>/``.

    Returns ``{"package", "version", "fingerprint", "rows", "report"}``; ``report`` counts what was
    read and why sounds were left out (``unlabelled`` with examples, ``excluded`` by a rule,
    ``unreadable``, ``silent``, ``too_short``, ``over_cap``). ``PackageError`` if it cannot be read."""
    deb, out = Path(deb), Path(out)
    t0 = time.time()
    package, version = deb_field(deb, "Package"), deb_field(deb, "Version")
    licensing = _copyright(deb, package)
    report = Counter()
    unlabelled: list[str] = []
    problems: list[str] = []
    kept: dict[str, list[tuple[Sound, np.ndarray]]] = defaultdict(list)

    def want(name, info):
        return info.isfile() and name.lower().endswith(AUDIO_EXT + ARCHIVE_EXT)

    for name, _, data in _tar_members(deb, want):
        try:
            sounds = list(iter_sounds(name, data))
        except Exception as e:  # a damaged archive member: counted, never fatal
            report["unreadable"] += 1
            problems.append(f"{name}: {type(e).__name__}: {e}")
            continue
        for sound in sounds:
            report["sounds"] += 1
            matched, cls = label_of(package, sound.source_path)
            if not matched:
                report["unlabelled"] += 1
                unlabelled.append(sound.source_path)
                continue
            if cls is None:
                report["excluded"] += 1
                continue
            try:
                x, sr = decode(sound)
            except Exception as e:  # soundfile's own error types
                report["unreadable"] += 1
                problems.append(f"{sound.source_path}: {type(e).__name__}: {e}")
                continue
            y, why = condition(x, sr)
            if y is None:
                report[why.replace(" ", "_")] += 1
                continue
            sound.data = None
            sound.audio = None
            kept[cls].append((sound, y))

    rows = []
    for cls in sorted(kept):
        cap = SPEECH_CAP if _CLASS[cls].speech else PACKAGE_CAP
        items = sorted(kept[cls], key=lambda item: _cap_key(item[0].source_path))
        report["over_cap"] += max(0, len(items) - cap)
        for sound, y in sorted(items[:cap], key=lambda item: item[0].source_path):
            flac = _flac_bytes(y, SAMPLE_RATE)
            sha = hashlib.sha256(flac).hexdigest()
            stem = _slug(re.split(r"[/!]", sound.source_path)[-1].rsplit(".", 1)[0])[:48]
            rel = f"audio/{_slug(package)}/{_slug(cls)}/{stem}-{_cap_key(sound.source_path)[:8]}.flac"
            target = out / rel
            if not (target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha):
                atomic_write(target, flac)
            group = sound.group or f"{sound.source_path.rsplit('/', 1)[0]}/{variant_stem(sound.source_path)}"
            rows.append({
                "file": rel, "class": cls, "package": package, "version": version,
                "licence": sound.licence or licensing.of(sound.virtual_path), "sha256": sha,
                "source_path": sound.source_path, "duration_s": f"{len(y) / SAMPLE_RATE:.3f}",
                "sample_rate": str(SAMPLE_RATE), "split": "", "group": f"{package}:{group}",
            })  # fmt: skip
    report["kept"] = len(rows)
    result = {
        "package": package,
        "version": version,
        "fingerprint": _fingerprint(package, version),
        "licence": licensing.summary,
        "licences": sorted(Counter(r["licence"] for r in rows).items(), key=lambda kv: -kv[1]),
        "deb": deb.name,
        "deb_bytes": deb.stat().st_size,
        "seconds": round(time.time() - t0, 1),
        "rows": rows,
        "report": dict(report),
        "unlabelled_examples": unlabelled[:40],
        "problems": problems[:20],
    }
    progress(
        f"{package} {version}: {report['sounds']} sounds, {len(rows)} kept in {len(kept)} classes, "
        f"{report['unlabelled']} unlabelled, {report['excluded']} left out by rule ({result['seconds']:.0f} s)"
    )
    return result


# --------------------------------------------------------------------------------------------------
# Synthetic speech (espeak-ng, itself fetched as .debs and run from a temporary directory)
# --------------------------------------------------------------------------------------------------

# espeak-ng and the shared libraries it loads that a minimal machine lacks (libpcaudio0 links PulseAudio,
# which links libsndfile and its codecs): all unpacked into one temporary directory, nothing installed
ESPEAK_PACKAGES = ("espeak-ng", "libespeak-ng1", "espeak-ng-data", "libpcaudio0", "libsonic0", "libpulse0", "libasyncns0",
                   "libsndfile1", "libflac12", "libvorbis0a", "libvorbisenc2", "libopus0", "libogg0", "libmpg123-0",
                   "libmp3lame0")  # fmt: skip
ESPEAK_LINES = (
    "The train to the city leaves in ten minutes.", "Please close the door when you leave.",
    "It will rain tomorrow in the afternoon.", "Turn the music down, I am trying to sleep.",
    "Could you pass me the salt, please?", "The meeting has been moved to Thursday.",
    "My phone battery is almost empty.", "We walked along the river until sunset.",
    "Three apples and a loaf of bread.", "The library opens at nine in the morning.",
    "Do not forget to water the plants.", "A cup of coffee would be lovely.",
    "The children are playing in the garden.", "This is a recorded announcement.",
    "Welcome aboard, we hope you enjoy the flight.", "The number you have dialled is not available.",
)  # fmt: skip
ESPEAK_VOICES = ("en+m1", "en+f2", "en-us+m3", "en-us+f3", "en+m5", "en+f4", "en-us+m7", "en+croak")


def espeak_recordings(out: str | os.PathLike, cache: str | os.PathLike, progress=print) -> dict:
    """``SPEECH_CAP`` utterances of espeak-ng (class "Speech synthesizer"), in the shape of
    ``process_package``'s result. ``PackageError`` if espeak-ng cannot be fetched or run."""
    out, cache = Path(out), Path(cache)
    t0 = time.time()
    debs = {p: fetch_deb(p, cache) for p in ESPEAK_PACKAGES}
    version = deb_field(debs["espeak-ng"], "Version")
    licensing = _copyright(debs["espeak-ng"], "espeak-ng")
    rows, report = [], Counter()
    with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
        for deb in debs.values():
            unpack_deb(deb, tmp)
        exe = Path(tmp) / "usr/bin/espeak-ng"
        libs = sorted({str(p.parent) for p in Path(tmp).glob("usr/lib/*/libespeak-ng.so*")})
        libs += sorted({str(p.parent) for p in Path(tmp).glob("usr/lib/*/*/lib*.so*")} - set(libs))  # pulseaudio/
        data = sorted(Path(tmp).glob("usr/lib/*/espeak-ng-data"))
        if not exe.is_file() or not libs or not data:
            raise PackageError("espeak-ng: the unpacked packages lack the program, its library or its data")
        env = {**os.environ, "LD_LIBRARY_PATH": ":".join(libs + [os.environ.get("LD_LIBRARY_PATH", "")])}
        import soundfile as sf

        for i in range(SPEECH_CAP):
            line, voice = ESPEAK_LINES[i % len(ESPEAK_LINES)], ESPEAK_VOICES[i % len(ESPEAK_VOICES)]
            wav = Path(tmp) / f"u{i}.wav"
            r = _run([str(exe), f"--path={data[0].parent}", "-v", voice, "-s", str(140 + 10 * (i % 5)), "-w", str(wav), line], env=env)
            if r.returncode:
                raise PackageError(f"espeak-ng does not run here ({_last_line(r.stderr)})")
            x, sr = sf.read(str(wav), dtype="float32", always_2d=True)
            report["sounds"] += 1
            y, why = condition(x, sr)
            if y is None:
                report[why.replace(" ", "_")] += 1
                continue
            flac = _flac_bytes(y, SAMPLE_RATE)
            sha = hashlib.sha256(flac).hexdigest()
            rel = f"audio/espeak-ng/speech-synthesizer/u{i:02d}-{_slug(voice)}.flac"
            atomic_write(out / rel, flac)
            rows.append({
                "file": rel, "class": "Speech synthesizer", "package": "espeak-ng", "version": version,
                "licence": licensing.summary, "sha256": sha, "source_path": f"espeak-ng -v {voice}: {line}",
                "duration_s": f"{len(y) / SAMPLE_RATE:.3f}", "sample_rate": str(SAMPLE_RATE), "split": "",
                "group": f"espeak-ng:{line}",
            })  # fmt: skip
    report["kept"] = len(rows)
    progress(f"espeak-ng {version}: {len(rows)} synthetic utterances")
    return {
        "package": "espeak-ng", "version": version, "fingerprint": _fingerprint("espeak-ng", version),
        "licence": licensing.summary, "licences": [[licensing.summary, len(rows)]], "deb": debs["espeak-ng"].name,
        "deb_bytes": sum(d.stat().st_size for d in debs.values()), "seconds": round(time.time() - t0, 1),
        "rows": rows, "report": dict(report), "unlabelled_examples": [], "problems": [],
    }  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------------


def _unit(seed: int, key: str) -> float:
    return int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:12], 16) / 16**12


def choose_heldout(
    rows: list[dict],
    min_classes: int = MIN_HELDOUT_CLASSES,
    max_share: float = HELDOUT_MAX_SHARE,
    exclude: Iterable[str] = (),
    min_share: float = HELDOUT_MIN_SHARE,
) -> list[str]:
    """Packages to hold out whole: greedily the package that brings the most classes into the held-out
    split that some other (not held out) package also has, so that the held-out split tests known
    classes on recordings never heard; fewer recordings break ties. Stops once ``min_classes``
    classes and ``min_share`` of the recordings are held out, or when no package that brings a new
    class fits under ``max_share`` of all recordings."""
    per_pkg: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        per_pkg[r["package"]][r["class"]] += 1
    total = sum(sum(c.values()) for c in per_pkg.values())
    chosen: list[str] = []
    covered: set[str] = set()
    skip = set(exclude)
    while True:
        held = sum(sum(per_pkg[p].values()) for p in chosen)
        if len(covered) >= min_classes and held >= min_share * total:
            break
        best, best_key = None, None
        for pkg in sorted(per_pkg):
            if pkg in chosen or pkg in skip:
                continue
            size = sum(per_pkg[pkg].values())
            if held + size > max_share * total:
                continue
            rest = set().union(*(per_pkg[p] for p in per_pkg if p not in chosen and p != pkg))
            new = {c for c in per_pkg[pkg] if c not in covered and c in rest}
            if not new:
                continue
            key = (len(new), -size)
            if best_key is None or key > best_key:
                best, best_key = pkg, key
        if best is None:
            break
        chosen.append(best)
        covered |= set(per_pkg[best])
    return chosen


def assign_splits(rows: list[dict], heldout: Iterable[str], seed: int = 0, fractions: dict | None = None) -> list[dict]:
    """Set every row's ``split``: ``heldout`` for the rows of the held-out packages; the others by
    group (the variants of one sound together), train / val / test in ``fractions``, from a hash of
    ``seed`` and the group (the same rows always land in the same split)."""
    fractions = fractions or SPLIT_FRACTIONS
    held = set(heldout)
    edges = np.cumsum([fractions["train"], fractions["val"]]) / sum(fractions.values())
    for r in rows:
        if r["package"] in held:
            r["split"] = "heldout"
        else:
            u = _unit(seed, r["group"])
            r["split"] = "train" if u < edges[0] else "val" if u < edges[1] else "test"
    return rows


# --------------------------------------------------------------------------------------------------
# The whole library
# --------------------------------------------------------------------------------------------------


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _cached(out: Path, package: str, version: str) -> dict | None:
    path = out / "packages" / f"{_slug(package)}.json"
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if result.get("version") != version or result.get("fingerprint") != _fingerprint(package, version):
        return None
    if not all((out / r["file"]).is_file() for r in result["rows"]):
        return None
    return result


def write_manifest(rows: list[dict], path: str | os.PathLike) -> Path:
    """``rows`` as a CSV with ``MANIFEST_COLUMNS``, written atomically."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: r[k] for k in MANIFEST_COLUMNS})
    return atomic_write(path, buf.getvalue())


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """The rows of a library's ``manifest.csv``; ``CorpusError`` naming the file and row if a column
    is missing, a class unknown or a split not one of ``LIBRARY_SPLITS``."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: library manifest not found (build it with python -m sclap_nb.data.library build)")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{path}: missing column(s) {missing}")
        rows = list(reader)
    for i, r in enumerate(rows, start=2):
        if r["split"] not in LIBRARY_SPLITS:
            raise CorpusError(f"{path}, line {i}: split {r['split']!r} is not one of {list(LIBRARY_SPLITS)}")
        if not r["file"] or not r["class"]:
            raise CorpusError(f"{path}, line {i}: empty file or class")
    return rows


def classes_table(rows: list[dict]) -> dict:
    """``classes.json``: each class with its captions, AudioSet flag and counts per split and package."""
    out = {}
    for c in CLASSES:
        mine = [r for r in rows if r["class"] == c.name]
        if not mine:
            continue
        out[c.name] = {
            "audioset": c.audioset,
            "speech": c.speech,
            "captions": list(c.captions),
            "recordings": len(mine),
            "splits": dict(sorted(Counter(r["split"] for r in mine).items())),
            "packages": dict(sorted(Counter(r["package"] for r in mine).items())),
        }
    return out


def build_library(
    out: str | os.PathLike = "data/library",
    packages: Iterable[str] | None = None,
    debs: Iterable[str | os.PathLike] = (),
    cache: str | os.PathLike | None = None,
    espeak: bool = True,
    heldout: Iterable[str] | None = None,
    seed: int = 0,
    progress=print,
) -> dict:
    """Build (or resume) the library in ``out`` from ``packages`` (default ``DEFAULT_PACKAGES``, fetched
    with apt into ``cache``, default ``out/debs``) and the local .deb files ``debs``; returns the report.
    A package that fails is skipped with a one-line message. ``heldout``: the packages to hold out
    (default: ``choose_heldout``)."""
    t0 = time.time()
    out = Path(out)
    if out.is_dir() and not (out / "packages").is_dir() and any(p.name != "debs" for p in out.iterdir()):
        raise CorpusError(f"{out}: exists and holds files that are not a sound library built here; choose another --out")
    cache = Path(cache) if cache else out / "debs"
    packages = list(DEFAULT_PACKAGES if packages is None else packages)
    jobs: list[tuple[str, Path | None]] = [(p, None) for p in packages] + [(str(d), Path(d)) for d in debs]
    results, skipped = [], {}
    for name, local in jobs:
        try:
            deb = local if local is not None else fetch_deb(name, cache)
            if local is not None and not local.is_file():
                raise PackageError(f"{local}: no such file")
            package, version = deb_field(deb, "Package"), deb_field(deb, "Version")
            result = _cached(out, package, version)
            if result is None:
                result = process_package(deb, out, progress)
                write_json_atomic(result, out / "packages" / f"{_slug(package)}.json")
            else:
                progress(f"{package} {version}: {len(result['rows'])} recordings (already built)")
            results.append(result)
        except Exception as e:  # any failure of one package (download, archive, decoder): skip it, say why
            skipped[name] = str(e) if isinstance(e, PackageError) else f"{type(e).__name__}: {e}"
            progress(f"skipping {name}: {skipped[name]}")
    if espeak:
        try:
            result = _cached(out, "espeak-ng", deb_field(fetch_deb("espeak-ng", cache), "Version"))
            if result is None:
                result = espeak_recordings(out, cache, progress)
                write_json_atomic(result, out / "packages" / "espeak-ng.json")
            results.append(result)
        except Exception as e:  # espeak-ng missing from the archive, or not runnable here
            skipped["espeak-ng"] = str(e) if isinstance(e, PackageError) else f"{type(e).__name__}: {e}"
            progress(f"skipping espeak-ng (no synthetic speech): {skipped['espeak-ng']}")

    rows, seen, duplicates = [], {}, Counter()
    for result in results:
        for r in result["rows"]:
            if r["sha256"] in seen:
                duplicates[r["package"]] += 1
                continue
            seen[r["sha256"]] = r["file"]
            rows.append(dict(r))
    held = list(heldout) if heldout is not None else choose_heldout(rows)
    assign_splits(rows, held, seed)
    rows.sort(key=lambda r: (r["split"], r["class"], r["file"]))
    per_split = {s: [r for r in rows if r["split"] == s] for s in LIBRARY_SPLITS}
    classes = classes_table(rows)
    train_classes = {r["class"] for r in per_split["train"]}
    held_classes = {r["class"] for r in per_split["heldout"]}
    report = {
        "format_version": FORMAT_VERSION,
        "distribution": _distribution(),
        "settings": _SETTINGS,
        "recordings": len(rows),
        "classes": len(classes),
        "audioset_classes": sum(1 for c in classes.values() if c["audioset"]),
        "hours": round(sum(float(r["duration_s"]) for r in rows) / 3600, 3),
        "speech_recordings": sum(1 for r in rows if _CLASS[r["class"]].speech),
        "splits": {s: {"recordings": len(v), "classes": len({r["class"] for r in v})} for s, v in per_split.items()},
        "heldout_packages": held,
        "heldout_classes_also_in_train": len(held_classes & train_classes),
        "heldout_classes_only_heldout": sorted(held_classes - train_classes),
        "packages": {
            res["package"]: {
                "version": res["version"], "licence": res["licence"], "deb": res["deb"],
                "licences": Counter(r["licence"] for r in rows if r["package"] == res["package"]).most_common(),
                "deb_bytes": res["deb_bytes"], "seconds": res["seconds"], "report": res["report"],
                "kept": sum(1 for r in rows if r["package"] == res["package"]), "duplicates": duplicates[res["package"]],
                "classes": len({r["class"] for r in rows if r["package"] == res["package"]}),
                "split": "heldout" if res["package"] in held else "train/val/test",
                "unlabelled_examples": res["unlabelled_examples"],
                "problems": [re.sub(r"<_io\.BytesIO object at 0x[0-9a-f]+>", "it", p) for p in res["problems"]],
            }
            for res in results
        },
        "skipped": skipped,
        "left_out": dict(sum((Counter({k: v for k, v in res["report"].items() if k not in ("sounds", "kept")}) for res in results), Counter())),
        "duplicates": sum(duplicates.values()),
        "audio_bytes": _du(out / "audio"),
        "manifest_audio_bytes": sum((out / r["file"]).stat().st_size for r in rows),
        "deb_bytes": sum(res["deb_bytes"] for res in results),
        "deb_cache_bytes": _du(cache),
        "build_seconds": round(time.time() - t0, 1),
        "processing_seconds": round(sum(res["seconds"] for res in results), 1),
    }  # fmt: skip
    write_manifest(rows, out / "manifest.csv")
    write_json_atomic(classes, out / "classes.json")
    write_json_atomic(report, out / "report.json")
    progress(
        f"{out}: {report['recordings']} recordings ({report['hours']:.2f} h) in {report['classes']} classes "
        f"({report['audioset_classes']} AudioSet names) from {len(results)} packages; splits "
        + ", ".join(f"{s} {v['recordings']} ({v['classes']} classes)" for s, v in report["splits"].items())
        + f"; held out: {', '.join(held) or 'none'}"
    )
    progress(
        f"left out: {report['left_out']}, {report['duplicates']} duplicates; skipped packages: {len(skipped)}"
    )
    progress(
        f"disk: audio {_mb(report['audio_bytes'])} (manifest's files {_mb(report['manifest_audio_bytes'])}); "
        f"the packages' .deb files {_mb(report['deb_bytes'])} (cache folder {_mb(report['deb_cache_bytes'])}); "
        f"{report['build_seconds']:.0f} s"
    )
    return report


# --------------------------------------------------------------------------------------------------
# A built library as a sound source (the interface of sources.FolderSource / SoundfontSource)
# --------------------------------------------------------------------------------------------------


def library_identity(root: str | os.PathLike) -> str:
    """The first 12 hex digits of the SHA-256 of a library's ``manifest.csv``: what names the library in a
    corpus's ``corpus.json`` (``LibrarySource.identity``), so a corpus of one library is not reused for another."""
    manifest = Path(root) / "manifest.csv"
    if not manifest.is_file():
        raise CorpusError(f"{manifest}: library manifest not found (build it with python -m sclap_nb.data.library build)")
    return hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]


class LibrarySource:
    """The recordings of a built library as sound classes for ``build_corpus``.

    A class is one library class within one split (``labels[k]``, ``splits[k]``), so a recording is
    drawn only in its own split; ``partition`` says which classes each corpus split draws from. The
    held-out packages are not used, unless ``heldout_as="test"``: then they are the test split (and
    the library's own test recordings are not used). ``render`` crops where the sound is, loops a
    recording shorter than the event and normalises the loudness, like ``FolderSource``.
    ``CorpusError`` names the manifest and line of a missing file.
    """

    def __init__(self, root: str | os.PathLike = "data/library", sample_rate: int = FeatureConfig.sample_rate, heldout_as: str | None = None):
        self.root = Path(root)
        self.sample_rate = int(sample_rate)
        if heldout_as not in (None, *SPLITS):
            raise ValueError(f"heldout_as must be None or one of {SPLITS}, got {heldout_as!r}")
        manifest = self.root / "manifest.csv"
        rows = read_manifest(manifest)
        # what a corpus's corpus.json records as its source: a corpus of one library is not reused for another
        self.identity = f"LibrarySource:{library_identity(self.root)}" + (":heldout" if heldout_as else "")
        split_of = {s: s for s in SPLITS}
        if heldout_as is not None:
            split_of = {s: s for s in SPLITS if s != heldout_as}
            split_of["heldout"] = heldout_as
        captions = {c.name: c.captions for c in CLASSES}
        try:
            stored = json.loads((self.root / "classes.json").read_text())
            captions.update({name: tuple(v["captions"]) for name, v in stored.items()})
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            pass
        self.labels: list[str] = []
        self.splits: list[str] = []
        self.captions: list[tuple[str, ...]] = []
        self._members: list[list[Path]] = []
        units: dict[tuple[str, str], int] = {}
        for line, r in enumerate(rows, start=2):
            split = split_of.get(r["split"])
            if split is None:
                continue
            path = self.root / r["file"]
            if not path.is_file():
                raise CorpusError(f"{manifest}, line {line}: audio file {path} not found")
            if r["class"] not in captions:
                raise CorpusError(f"{manifest}, line {line}: class {r['class']!r} has no captions")
            key = (r["class"], split)
            if key not in units:
                units[key] = len(self.labels)
                self.labels.append(r["class"])
                self.splits.append(split)
                self.captions.append(tuple(captions[r["class"]]))
                self._members.append([])
            self._members[units[key]].append(path)
        self._scans: dict[Path, tuple[float, np.ndarray, float]] = {}

    def __len__(self) -> int:
        return len(self.labels)

    def files(self, k: int) -> list[str]:
        """The files of class ``k`` (relative to the library's root)."""
        return [str(p.relative_to(self.root)) for p in self._members[k]]

    def partition(self, sizes: dict[str, int], seed: int) -> dict[str, list[int]]:
        """The classes of each split (``seed`` is not needed: the library fixes the splits).
        ``CorpusError`` when a split with scenes has fewer than 2 classes."""
        out = {s: [k for k, sp in enumerate(self.splits) if sp == s] for s in SPLITS}
        for s in SPLITS:
            if sizes.get(s, 0) > 0 and len(out[s]) < 2:
                raise CorpusError(f"{self.root}: split {s!r} has {len(out[s])} sound class(es); {sizes[s]} scenes need at least 2")
        return out

    def _scan(self, path: Path) -> tuple[float, np.ndarray, float]:
        if path not in self._scans:
            import soundfile as sf

            x, sr = sf.read(str(path), dtype="float32", always_2d=True)
            hop = max(1, int(round(0.05 * sr)))
            self._scans[path] = (len(x) / sr, frame_rms(x.mean(1), hop), hop / sr)
        return self._scans[path]

    def seconds(self, k: int, member: int) -> float:
        """The length in seconds of recording ``member`` of class ``k`` (``files(k)[member]``)."""
        return self._scan(self._members[k][member])[0]

    def render(self, k: int, rng: np.random.Generator, duration_s: float, rendering_id: str = "", member: int | None = None) -> Event:
        """A ``duration_s`` crop of one recording of class ``k``: ``files(k)[member]``, or one drawn from ``rng``."""
        members = self._members[k]
        path = members[int(rng.integers(len(members))) if member is None else member]
        sr = self.sample_rate
        n = int(round(duration_s * sr))
        seconds, rms, frame_s = self._scan(path)
        start = active_crop(rms, frame_s, seconds, n / sr, rng, str(path))
        if seconds * sr < n:
            whole = read_span(path, 0.0, max(1, int(np.floor(seconds * sr))), sr).mean(0)
            audio = np.tile(whole, n // len(whole) + 1)[:n]
        else:
            audio = read_span(path, start, n, sr).mean(0)
        try:
            audio = normalise_event(audio, sr)
        except ValueError:
            raise CorpusError(f"{path}: its {duration_s:.2f} s crop at {start:.2f} s is silent") from None
        name = str(path.relative_to(self.root))
        return Event(audio, self.labels[k], self.captions[k], f"{rendering_id or self.labels[k]}:{name}@{start:.2f}s")


# --------------------------------------------------------------------------------------------------
# Publishing the manifest (no audio) and its README
# --------------------------------------------------------------------------------------------------


def readme_text(report: dict, classes: dict) -> str:
    """The README of a published library: counts, footprint, packages and licences, classes, rebuild."""
    pk = report["packages"]
    lines = [
        "# A library of recorded sounds from Debian packages",
        "",
        f"{report['recordings']} recordings ({report['hours']:.2f} hours) in {report['classes']} classes "
        f"({report['audioset_classes']} of them AudioSet ontology names), from {len(pk)} packages of "
        f"{report.get('distribution', 'Debian')}, every one with its package, version, licence and SHA-256 in `manifest.csv`. "
        f"Speech is {report['speech_recordings']} of them. The audio is not in the repository: "
        "`python -m sclap_nb.data.library build` makes it (below).",
        "",
        f"* Disk: {_mb(report['manifest_audio_bytes'])} of 16 kHz mono 16-bit FLAC (the audio folder holds "
        f"{_mb(report['audio_bytes'])}); the packages' .deb files {_mb(report['deb_bytes'])}.",
        "* Left out: " + ", ".join(f"{report['left_out'].get(k, 0)} {words}" for k, words in _LEFT_OUT_WORDS)
        + f"; {report['duplicates']} recordings identical to one of an earlier package.",
        "* Splits: " + ", ".join(f"{s} {report['splits'][s]['recordings']} recordings in {report['splits'][s]['classes']} classes" for s in LIBRARY_SPLITS) + ".",
        f"* Held out whole (never heard in training): {', '.join(report['heldout_packages'])}; "
        f"{report['heldout_classes_also_in_train']} of its {report['splits']['heldout']['classes']} classes are "
        "also in the training split (the same classes, recorded by others), "
        + (f"{len(report['heldout_classes_only_heldout'])} only there ({', '.join(report['heldout_classes_only_heldout'])})." if report["heldout_classes_only_heldout"] else "none only there."),
        f"* Build time: {report['processing_seconds']:.0f} s of reading and converting the packages, one CPU core "
        f"(`nice -n 10`); the run that wrote this report took {report['build_seconds']:.0f} s from start to end "
        "(downloads included, packages already read reused).",
        "",
        "What the labels are and are not: a sound is labelled from its file name and path by one table of rules (`RULES` in "
        "`sclap_nb/data/library.py`, package by package); a sound no rule names is left out and counted as "
        "unlabelled, never guessed. Sounds named by what they are in a game rather than by what is heard "
        "(`powerup`, `menu`), music, words and fantasy creatures are left out by rule. The licence is that of "
        "the copyright paragraph whose `Files:` pattern matches the end of the sound's path (machine-readable "
        "copyright files), else the package's `Files: *` licence, else what a free-form copyright file names.",
        "",
        "Nobody listened to the recordings: a label is what the file's name says. Most sounds are recordings made "
        "for games, desktops and music software, some edited or layered; the drum machine, the two speech "
        "synthesizers (espeak-ng, and the Festival voice that OpenArena ships) and some electronic drum kits are "
        "synthetic. Only byte-identical copies are removed across packages; the same recording re-encoded by two "
        "packages would be listed twice. Variants of one sound in one package (velocity layers, numbered takes) "
        "share a group and so a split.",
        "",
        "## Packages",
        "",
        "| package | version | licence(s) of the kept recordings | kept | classes | unlabelled | left out by rule | silent / short / over cap | split |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in sorted(pk, key=lambda p: -pk[p]["kept"]):
        p = pk[name]
        rep = p["report"]
        lic = "; ".join(f"{lic} ({n})" for lic, n in p["licences"]) or p["licence"]
        other = f"{rep.get('silent', 0)} / {rep.get('too_short', 0)} / {rep.get('over_cap', 0)}"
        lines.append(
            f"| {name} | {p['version']} | {lic} | {p['kept']} | {p['classes']} | {rep.get('unlabelled', 0)} | "
            f"{rep.get('excluded', 0)} | {other} | {p['split']} |"
        )
    if report["skipped"]:
        lines += ["", "Skipped: " + "; ".join(f"{k} ({v})" for k, v in report["skipped"].items())]
    lines += [
        "",
        "## Classes",
        "",
        "| class | AudioSet name | recordings | train / val / test / heldout | packages | captions |",
        "|---|---|---:|---|---:|---|",
    ]
    for name, c in sorted(classes.items(), key=lambda kv: -kv[1]["recordings"]):
        sp = " / ".join(str(c["splits"].get(s, 0)) for s in LIBRARY_SPLITS)
        lines.append(
            f"| {name} | {'yes' if c['audioset'] else 'no'} | {c['recordings']} | {sp} | {len(c['packages'])} | "
            f"{'; '.join(c['captions'])} |"
        )
    lines += [
        "",
        "## Rebuild",
        "",
        "```bash",
        "nice -n 10 .venv/bin/python -m sclap_nb.data.library build --out data/library   # fetches the packages with apt-get download",
        ".venv/bin/python -m sclap_nb.data.library publish --out data/library --to results/library",
        "```",
        "",
        "The build needs `apt-get` with Debian's archive reachable (or the .deb files in `data/library/debs`, "
        "which it reuses) and `dpkg-deb`; it installs nothing. It resumes: a package already read with the "
        "same version and rules is not read again. `--packages` chooses the packages, `--deb FILE` adds a local "
        ".deb, `--no-espeak` leaves out the synthetic speech, `--heldout P ...` chooses the held-out packages. "
        "`python -m sclap_nb.data.library scan --package P` lists a package's sounds and the class each gets.",
        "",
        "`sclap_nb.data.library.LibrarySource(\"data/library\")` reads the library as a sound source for "
        "`sclap_nb.data.build_corpus(..., source=...)`.",
        "",
    ]
    return "\n".join(lines)


_LEFT_OUT_WORDS = (
    ("unlabelled", "named by no rule (unlabelled)"), ("excluded", "left out by a rule (music, words, interface sounds)"),
    ("over_cap", "over the per-package cap of a class"), ("too_short", "shorter than 0.2 s once trimmed"),
    ("silent", "silent"), ("unreadable", "unreadable"),
)  # fmt: skip


def _distribution() -> str:
    """The system whose archive the packages come from, as /etc/os-release names it."""
    try:
        fields = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
        return fields.get("PRETTY_NAME", "Debian").strip('"')
    except OSError:
        return "Debian"


def publish(out: str | os.PathLike, to: str | os.PathLike) -> Path:
    """Copy a built library's ``manifest.csv``, ``classes.json`` and ``report.json`` (no audio) into
    ``to`` and write its ``README.md`` from them."""
    out, to = Path(out), Path(to)
    report = json.loads((out / "report.json").read_text())
    classes = json.loads((out / "classes.json").read_text())
    atomic_write(to / "manifest.csv", (out / "manifest.csv").read_bytes())
    write_json_atomic(classes, to / "classes.json")
    write_json_atomic(report, to / "report.json")
    atomic_write(to / "README.md", readme_text(report, classes))
    return to


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def scan(deb: str | os.PathLike, unlabelled_only: bool = False) -> Iterator[tuple[str, str]]:
    """``(source_path, class or '-' unlabelled or 'x' left out by rule)`` of every sound of a .deb."""
    deb = Path(deb)
    package = deb_field(deb, "Package")
    for name, _, data in _tar_members(deb, lambda n, i: i.isfile() and n.lower().endswith(AUDIO_EXT + ARCHIVE_EXT)):
        for sound in iter_sounds(name, data):
            matched, cls = label_of(package, sound.source_path)
            if unlabelled_only and matched:
                continue
            yield sound.source_path, cls if cls else ("x" if matched else "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sclap_nb.data.library", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build or resume the library")
    b.add_argument("--out", default="data/library", help="library folder (default data/library)")
    b.add_argument("--packages", nargs="*", help="Debian packages to read (default: the built-in list)")
    b.add_argument("--deb", nargs="*", default=[], help="local .deb files to read as well (no download)")
    b.add_argument("--cache", help="where downloaded .deb files are kept and reused (default OUT/debs)")
    b.add_argument("--no-espeak", action="store_true", help="no synthetic speech from espeak-ng")
    b.add_argument("--heldout", nargs="*", help="packages to hold out whole (default: chosen by choose_heldout)")
    b.add_argument("--seed", type=int, default=0, help="seed of the train/val/test assignment (default 0)")
    s = sub.add_parser("scan", help="list a package's sounds and their classes (nothing is written)")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--package", help="a Debian package (fetched into --cache)")
    g.add_argument("--deb", help="a local .deb file")
    s.add_argument("--cache", default="data/library/debs")
    s.add_argument("--unlabelled", action="store_true", help="only the sounds no rule names")
    p = sub.add_parser("publish", help="copy the manifest, classes and report (no audio) and write a README")
    p.add_argument("--out", default="data/library")
    p.add_argument("--to", default="results/library")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build_library(args.out, args.packages, args.deb, args.cache, not args.no_espeak, args.heldout, args.seed)
        elif args.command == "scan":
            deb = args.deb or fetch_deb(args.package, args.cache)
            for path, cls in scan(deb, args.unlabelled):
                print(f"{cls}\t{path}")
        else:
            print(publish(args.out, args.to))
    except (PackageError, CorpusError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
