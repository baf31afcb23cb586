"""Generate synthetic escort/massage ads for tests and demos (deterministic for a given seed).

    python -m services.ad_triage.tools.generate_ads --count 3000 --seed 7 --format jsonl --out ads.jsonl \
        [--malformed 20]

All data is invented: platforms use the reserved .example domain, names are common first names, and phone numbers
come from narrow blocks (Danish +45 2999 xxxx, a few foreign mobiles) that phonenumbers accepts as valid. Denmark
has no reserved fictional range, so "unlikely to be real" is the best that can be promised; never dial them.
Some authors post many near-duplicate ads across cities with one phone, as the network signals expect. As in
scraped ads, a share of the ads whose text gives the number leave it out of the contacts field, always disguised:
only the text links them to the author's other ads.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import phonenumbers

PLATFORMS = ("dkescort.example", "natannoncer.example", "massagetider.example", "roedelygter.example")
CITIES = ("København", "Aarhus", "Odense", "Aalborg", "Roskilde", "Næstved", "Esbjerg")
SPELLINGS = {"København": ("Kbh", "Copenhagen", "København K"), "Aarhus": ("Århus",), "Aalborg": ("Ålborg",)}
NAMES = ("Anna", "Maria", "Sofia", "Nina", "Lina", "Mai", "Julia", "Eva", "Mia", "Lily", "Natalia", "Emma")
# Foreign blocks: country code + fixed prefix; the generator appends digits and checks validity.
PHONE_BLOCKS = (("+452999", 4), ("+452999", 4), ("+452999", 4), ("+4072999", 4), ("+4860999", 3),
                ("+6689912", 4), ("+35988999", 4))
SENTENCES = {
    "da": {
        "open": ("Hej søde mand.", "Velkommen til min private massage.", "Ny pige i {city}.", "Dejlig pige i {city}."),
        "body": ("Jeg tilbyder afslappende massage og hyggeligt samvær.", "Jeg er slank, sød og smilende.",
                 "Rent og roligt sted tæt på stationen.", "Jeg har lækkert undertøj og varme hænder.",
                 "Kom og nyd en skøn time med mig."),
        "trust": ("Jeg er professionel og diskret og sikker.", "100% ægte billeder.", "Seriøs og pålidelig."),
        "ethnicity": ("Sød thailandsk pige.", "Smuk rumænsk pige.", "Asiatisk massage af høj kvalitet."),
        "young": ("Ung pige, lige fyldt 18.", "Helt ung og frisk."),
        "age": ("Jeg er {age} år.",),
        "detail": ("Åben fra {h1} til {h2}.", "Jeg er {cm} cm høj og vejer {kg} kg.", "Hårfarve {hair}, øjne {eyes}.",
                   "Parkering lige ved døren, {min} min fra centrum.", "Bruger kun {oil} olie."),
        "move": ("Ny i byen, kun her få dage.", "Rejser snart videre."),
        "screen": ("Ingen skjulte numre.", "Kun seriøse henvendelser."),
        "contact": ("Ring eller sms {phone}.", "Skriv på {phone}.", "Tlf {phone}."),
        "close": ("Kys {name}", "Hilsen {name}", "Vi ses, {name}"),
    },
    "en": {
        "open": ("Hello gentlemen.", "Welcome to my private massage.", "Sweet girl in {city}.", "Hi, I am {name}."),
        "body": ("I offer relaxing massage and good company.", "Slim, sweet and always smiling.",
                 "Clean and quiet place near the station.", "Soft hands and nice lingerie.",
                 "Come and enjoy a lovely hour with me."),
        "trust": ("Professional, safe and discreet.", "100% real photos.", "Genuine and reliable."),
        "ethnicity": ("Sweet Thai girl.", "Beautiful Romanian girl.", "Asian massage, high quality."),
        "young": ("Young girl, just turned 18.", "Barely legal and fresh."),
        "age": ("I am {age} years old.",),
        "detail": ("Open from {h1} to {h2}.", "I am {cm} cm tall and weigh {kg} kg.", "Hair {hair}, eyes {eyes}.",
                   "Parking by the door, {min} min from the centre.", "I only use {oil} oil."),
        "move": ("New in town, leaving soon.", "Only here for a few days."),
        "screen": ("No private numbers.", "Serious gentlemen only."),
        "contact": ("Call or text {phone}.", "Message me on {phone}.", "Phone {phone}."),
        "close": ("Kisses {name}", "Love, {name}", "See you, {name}"),
    },
}
HAIR = {"da": ("blond", "brun", "sort"), "en": ("blonde", "brown", "black")}
EYES = {"da": ("blå", "brune", "grønne"), "en": ("blue", "brown", "green")}
DISGUISES = ("spaced", "dotted", "words", "mixed", "keycap", "fullwidth", "lookalike")
TEXT_ONLY_SHARE = 0.3  # of the ads whose text gives the number: the contacts field then does not
_WORDS = {"da": "nul en to tre fire fem seks syv otte ni".split(), "en": "zero one two three four five six "
          "seven eight nine".split()}


def obfuscate(e164: str, style: str, language: str) -> str:
    """Render a phone number the way an advertiser might, from plain to heavily disguised."""
    number = phonenumbers.parse(e164)
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 45 else \
        phonenumbers.PhoneNumberFormat.INTERNATIONAL
    digits = e164[3:] if number.country_code == 45 else e164  # Danish ads rarely write +45
    plus, body = ("+", digits[1:]) if digits.startswith("+") else ("", digits)
    renderers = {
        "plain": lambda: phonenumbers.format_number(number, fmt),
        "spaced": lambda: plus + " ".join(body),
        "dotted": lambda: plus + ".".join(body),
        "words": lambda: " ".join(["plus"] * bool(plus) + [_WORDS[language][int(d)] for d in body]),
        "mixed": lambda: plus + "".join(_WORDS["en"][int(d)] if i % 2 else d for i, d in enumerate(body)),
        "keycap": lambda: plus + "".join(d + "\ufe0f\u20e3" for d in body),
        "fullwidth": lambda: plus + "".join(chr(0xFF10 + int(d)) for d in body),
        "lookalike": lambda: plus + body.replace("0", "O").replace("1", "l"),
    }
    return renderers[style]()


@dataclass
class Author:
    language: str
    name: str
    phone: str
    style: str
    handle: str | None
    cities: tuple[str, ...]
    sentences: list[str]
    hashes: tuple[str, ...]
    prolific: bool

    @property
    def number_in_text(self) -> bool:
        return any("{phone}" in sentence for sentence in self.sentences)


def _phone(rng: random.Random) -> str:
    while True:
        prefix, extra = rng.choice(PHONE_BLOCKS)
        candidate = prefix + "".join(rng.choice("0123456789") for _ in range(extra))
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def _author(rng: random.Random, prolific: bool) -> Author:
    language = "da" if rng.random() < 0.6 else "en"
    pool = SENTENCES[language]
    picks = ["open"] + [k for k, p in (("trust", .35), ("ethnicity", .25), ("young", .06),
                                                       ("age", .4), ("move", .3), ("screen", .3)) if rng.random() < p]
    picks += ["contact"] if rng.random() < 0.75 else []  # others give the number only in the contact field
    # Personal details make independent authors' texts differ, as real ads do; copies keep them.
    details = {"h1": rng.randint(8, 14), "h2": rng.randint(18, 23), "cm": rng.randint(150, 180),
               "kg": rng.randint(45, 70), "min": rng.randint(2, 20), "hair": rng.choice(HAIR[language]),
               "eyes": rng.choice(EYES[language]), "oil": rng.choice(("mandel", "kokos", "argan"))}
    sentences = ([rng.choice(pool["open"])] + rng.sample(pool["body"], 2) + [rng.choice(pool[k]) for k in picks[1:]]
                 + [s.format(**details) for s in rng.sample(pool["detail"], 2)] + [rng.choice(pool["close"])])
    styles = ("plain",) * 6 + DISGUISES
    name = rng.choice(NAMES)
    return Author(language, name, _phone(rng), rng.choice(styles),
                  f"{name.lower()}{rng.randint(10, 99)}" if rng.random() < 0.4 else None,
                  tuple(rng.sample(CITIES, rng.randint(3, 6))) if prolific else (rng.choice(CITIES),),
                  sentences, tuple(f"{rng.getrandbits(64):016x}" for _ in range(rng.randint(0, 3))), prolific)


def _hides(author: Author) -> bool:
    """Whether the author's style disguises the number: lookalike letters need a 0 or a 1 to stand in for."""
    shown = obfuscate(author.phone, author.style, author.language)
    return author.style != "plain" and (author.style != "lookalike" or any(ch in shown for ch in "Ol"))


def _text_only_style(scrape_rng: random.Random, author: Author) -> str | None:
    """The disguise of an ad that gives its number only in the text, or None for an ad with a contacts field.

    Drawn from a stream of its own, so every other field of every record is what it was before such ads existed.
    """
    if not author.number_in_text or scrape_rng.random() >= TEXT_ONLY_SHARE:
        return None
    return author.style if _hides(author) else scrape_rng.choice([s for s in DISGUISES if s != "lookalike"])


def _ad(rng: random.Random, scrape_rng: random.Random, author: Author, index: int, start: datetime) -> dict:
    city = rng.choice(author.cities)
    text_only = _text_only_style(scrape_rng, author)
    shown = obfuscate(author.phone, text_only or author.style, author.language)
    text = " ".join(s.format(city=city, name=author.name, age=rng.randint(19, 34), phone=shown)
                    for s in author.sentences)
    platform = rng.choice(PLATFORMS)
    first = start + timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
    phone_kind = rng.choice(("phone", "phone", "whatsapp"))  # drawn for a text-only ad too: the stream stays
    contacts = [] if text_only else [{"kind": phone_kind, "value": shown}]
    if author.handle:
        contacts.append({"kind": rng.choice(("telegram", "snapchat")), "value": "@" + author.handle})
    record = {
        "platform": platform, "adId": f"{index + 100000}", "url": f"https://{platform}/annonce/{index + 100000}",
        "firstSeen": first.isoformat(), "lastSeen": (first + timedelta(hours=rng.randint(0, 720))).isoformat(),
        "title": f"{author.name} - {city}", "text": text, "language": author.language,
        "location": rng.choice(SPELLINGS.get(city, (city,)) + (city,) * 3), "contacts": contacts,
        "imageHashes": list(author.hashes),
    }
    if rng.random() < 0.5:
        record["price"] = {"amount": rng.choice((800, 1000, 1200, 1500, 2000)), "currency": "DKK"}
    return record


BREAKERS = (
    lambda r: r.pop("adId"),
    lambda r: r.update(lastSeen=(datetime.fromisoformat(r["firstSeen"]) - timedelta(days=1)).isoformat()),
    lambda r: r["contacts"].append({"kind": "phone", "value": ""}),
    lambda r: r.update(language="dansk"),
    lambda r: r.update(url="annonce 17"),
    lambda r: r.update(imageHashes=["data:image/png;base64,iVBORw0KGgo="]),
    lambda r: r.update(price={"amount": -5, "currency": "kr"}),
    lambda r: r.update(name="Anna Hansen"),
    None,  # a line that is not a record at all (truncated JSON / short CSV row)
)


def generate(count: int, seed: int, malformed: int = 0) -> list[dict | None]:
    """Records in order; None marks a line to be written unparseable. Malformed ones are spread evenly."""
    rng = random.Random(seed)
    scrape_rng = random.Random(f"{seed}/text-only")
    authors = [_author(rng, prolific=i % 15 == 0) for i in range(max(3, count // 5))]
    weights = [8 if a.prolific else 1 for a in authors]
    start = datetime(2016, 1, 1, tzinfo=timezone.utc)
    records: list[dict | None] = [_ad(rng, scrape_rng, rng.choices(authors, weights)[0], i, start)
                                  for i in range(count)]
    for n, position in enumerate(sorted(rng.sample(range(count), min(malformed, count)))):
        breaker = BREAKERS[n % len(BREAKERS)]
        if breaker is None:
            records[position] = None
        else:
            breaker(records[position])  # type: ignore[arg-type]
    return records


def write_jsonl(records: list[dict | None], out) -> None:
    for record in records:
        out.write(('{"platform": "dkescort.example", "adId": ' if record is None
                   else json.dumps(record, ensure_ascii=False)) + "\n")


def write_csv(records: list[dict | None], out) -> None:
    from ..domain.record_lines import CSV_COLUMNS  # the parser's column list is the contract

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        if r is None:
            writer.writerow(["dkescort.example", "broken"])
            continue
        price = r.get("price") or {}
        extra = [str(v) for k, v in r.items() if k not in CSV_COLUMNS + ("price",)]  # becomes a surplus cell
        writer.writerow([r.get("platform", ""), r.get("adId", ""), r["url"], r["firstSeen"], r["lastSeen"],
                         r["title"], r["text"], r["language"], r["location"],
                         ";".join(f"{c['kind']}:{c['value']}" for c in r["contacts"]),
                         price.get("amount", ""), price.get("currency", ""), ";".join(r["imageHashes"])] + extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--out", default="-", help="output file, '-' for stdout")
    parser.add_argument("--malformed", type=int, default=0, help="how many records to break on purpose")
    args = parser.parse_args(argv)
    if args.count < 1 or args.malformed < 0:
        parser.error("--count must be at least 1 and --malformed not negative")
    records = generate(args.count, args.seed, args.malformed)
    writer = write_jsonl if args.format == "jsonl" else write_csv
    if args.out == "-":
        writer(records, sys.stdout)
    else:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            writer(records, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
