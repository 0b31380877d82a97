""""Did you mean" for a value in ``codes.<field>`` that is not canonical — never a code with
another meaning.

Spelling distance alone is dangerous here: ``stepchild`` is as close to ``step_parent`` as a
typo is to its word, and a wrong suggestion, taken, reverses a relationship in every family
the source describes. So a value is first read through curated synonyms (the words
agencies' systems use: ``son`` is a ``child``, ``nan`` a ``grandparent``, "child of" is
``child_of``), and only then by spelling — and a spelling suggestion must keep every marker
of meaning the value has: the same prefixes (step, half, grand, co, ex), the same direction
(a trailing "of") and no role word (mother, child, partner …) the suggestion lacks.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

#: synonyms, keyed by the value's letters only, lower case (``Step-Son`` → ``stepson``)
_RELATIONSHIP_SYNONYMS: dict[str, tuple[str, ...]] = {
    "mother": ("mum", "mom", "mam", "mummy", "mommy", "birthmother", "naturalmother",
               "biologicalmother", "mo", "mth"),
    "father": ("dad", "daddy", "pa", "birthfather", "naturalfather", "biologicalfather",
               "fa", "fth"),
    "parent": ("birthparent", "naturalparent", "biologicalparent", "parents"),
    "step_parent": ("stepmother", "stepfather", "stepmum", "stepmom", "stepdad",
                    "stepparents"),
    "partner": ("boyfriend", "girlfriend", "husband", "wife", "spouse", "cohabitee",
                "cohabitant", "civilpartner", "fiance", "fiancee", "commonlawpartner"),
    "ex_partner": ("ex", "expartner", "exhusband", "exwife", "exboyfriend", "exgirlfriend",
                   "exspouse", "formerpartner", "previouspartner", "expart"),
    "child": ("son", "daughter", "birthchild", "naturalchild", "ownchild", "children", "kid"),
    "step_child": ("stepchild", "stepson", "stepdaughter", "stepchildren"),
    "sibling": ("brother", "sister", "fullsibling", "fullbrother", "fullsister", "siblings"),
    "half_sibling": ("halfbrother", "halfsister", "halfsiblings"),
    "grandparent": ("grandmother", "grandfather", "grandma", "grandmum", "grandad", "granddad",
                    "grandpa", "gran", "granny", "nan", "nana", "nanna", "nanny", "grandparents",
                    "grandmothermaternal", "grandmotherpaternal", "maternalgrandmother",
                    "paternalgrandmother", "maternalgrandfather", "paternalgrandfather"),
    "grandchild": ("grandson", "granddaughter", "grandchildren", "grandkid", "grandkids"),
    "co_parent": ("coparent", "otherparent", "childsotherparent", "babyfather", "babysfather",
                  "babymother", "babysmother", "fatherofherchild", "motherofhischild"),
    "partner_of_parent": ("parentspartner", "mothersp", "motherspartner", "fatherspartner",
                          "mumspartner", "dadspartner", "mumsboyfriend", "mothersboyfriend",
                          "dadsgirlfriend", "fathersgirlfriend", "partnerofparent",
                          "partnerofmother", "partneroffather"),
    "carer": ("fostercarer", "kinshipcarer", "guardian", "specialguardian", "legalguardian",
              "maincarer", "primarycarer"),
    "household_member": ("household", "lodger", "memberofhousehold", "otherhouseholdmember",
                         "householdmember", "occupant", "resident"),
}

_EVENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "cp_plan": ("cp", "cpp", "childprotection", "childprotectionplan", "cpplan", "cpstart"),
    "cin_plan": ("cin", "cinp", "childinneed", "childinneedplan", "cinplan"),
    "looked_after": ("lac", "cla", "lookedafterchild", "childlookedafter", "lookedafterchildren",
                     "incare", "care", "lookedafter"),
    "domestic_abuse": ("da", "dv", "dva", "domesticviolence", "domesticabuseincident",
                       "domesticincident"),
    "mental_health_detention": ("section136", "s136", "section2", "section3", "sectioned",
                                "mhadetention"),
    "mental_health_admission": ("psychiatricadmission", "mhadmission", "inpatientadmission"),
    "mental_health_referral": ("camhsreferral", "mhreferral", "mentalhealthreferral"),
    "missed_appointment": ("dna", "didnotattend", "wasnotbrought", "wnb", "noshow",
                           "missedappt"),
    "send": ("sen", "ehcp", "sendsupport", "specialeducationalneeds", "ehcplan"),
    "offence": ("crime", "arrest", "charged", "conviction", "offense"),
    "gcp2_assessment": ("gcp2", "gcp", "gradedcareprofile", "gradedcareprofile2"),
    "assessment": ("singleassessment", "candfassessment", "cfassessment"),
    "substance_misuse": ("drugs", "drug", "alcohol", "substance", "drugmisuse",
                         "alcoholmisuse"),
    "neglect_concern": ("neglect",),
    "injury": ("nai", "nonaccidentalinjury", "bruising", "bruise"),
    "referral": ("contact", "referralreceived"),
}

#: meaning markers: prefixes and the role words a relationship value names
_PREFIXES = ("step", "half", "grand", "co", "ex")
_ROLES = ("mother", "father", "parent", "child", "partner", "sibling", "carer", "household")


def compact(value: str) -> str:
    """Lower-case letters and digits only: ``"Step-Son "`` → ``stepson``."""
    return re.sub(r"[^a-z0-9]", "", value.lower())


def _index(synonyms: dict[str, tuple[str, ...]], vocabulary: Sequence[str]) -> dict[str, str]:
    index = {compact(v): v for v in vocabulary}
    for canonical, words in synonyms.items():
        for word in words:
            index.setdefault(word, canonical)
    return index


def _markers(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(prefixes and direction, role words) of a compact value."""
    prefixes = {p for p in _PREFIXES if text.startswith(p)}
    if "grand" in text:
        prefixes.add("grand")
    if "step" in text:
        prefixes.add("step")
    if text.endswith("of"):
        prefixes.add("of")
    roles = {r for r in _ROLES if r in text}
    return frozenset(prefixes), frozenset(roles)


def suggest(field: str, value: str, vocabulary: Sequence[str]) -> str | None:
    """The canonical value ``value`` most likely means, or None when it cannot be told.

    >>> from famlink.linkage.job_sources import RELATIONSHIP_CODE_VALUES as V
    >>> suggest("relationship", "stepchild", V), suggest("relationship", "Child of", V)
    ('step_child', 'child_of')
    >>> suggest("relationship", "Nan", V), suggest("relationship", "son of", V)
    ('grandparent', 'child_of')
    >>> suggest("relationship", "stepchil", V), suggest("relationship", "grandmother", V)
    ('step_child', 'grandparent')
    """
    text = compact(value)
    if not text:
        return None
    if field == "relationship":
        index = _index(_RELATIONSHIP_SYNONYMS, vocabulary)
        if text in index:
            return index[text]
        # "<synonym> of": the reversed reading of the synonym (son of → child_of)
        if text.endswith("of") and text[:-2] in index:
            reversed_value = index[text[:-2]] + "_of"
            if reversed_value in vocabulary:
                return reversed_value
        return _by_spelling(text, vocabulary, same_meaning=True)
    if field == "event_type":
        index = _index(_EVENT_SYNONYMS, vocabulary)
        if text in index:
            return index[text]
    return _by_spelling(text, vocabulary, same_meaning=False)


def _by_spelling(text: str, vocabulary: Sequence[str], *, same_meaning: bool) -> str | None:
    """The closest canonical value by spelling when it is clearly the closest (no other
    within 0.05) and, for relationships, keeps the value's markers of meaning and is a
    typo's distance away (similarity ≥ 0.8: ``mothr`` is ``mother``, but ``mother in law``
    is not)."""
    prefixes, roles = _markers(text)
    scored = []
    for candidate in vocabulary:
        key = compact(candidate)
        if same_meaning:
            c_prefixes, c_roles = _markers(key)
            if c_prefixes != prefixes or not roles <= c_roles:
                continue
        ratio = difflib.SequenceMatcher(None, text, key).ratio()
        if ratio >= (0.8 if same_meaning else 0.6):
            scored.append((ratio, candidate))
    scored.sort(key=lambda rc: -rc[0])
    if not scored or (len(scored) > 1 and scored[0][0] - scored[1][0] < 0.05):
        return None
    return scored[0][1]


def meaning(field: str, value: str) -> str:
    """How a canonical relationship value reads, for hints; other fields: empty."""
    if field != "relationship":
        return ""
    if value.endswith("_of"):
        return (f" (record_id is related_record_id's {value[:-3]}; ingest swaps the two ids)")
    return f" (related_record_id is record_id's {value})"
