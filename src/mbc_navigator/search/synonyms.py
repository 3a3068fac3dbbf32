"""The words patients use, mapped to the words of the pages; drug aliases the pages use for one drug.

Brand names come from the knowledge base (``drugs.yaml``) at run time, so they are not repeated here.
Each key is a word or phrase a person may type (lower case); its value is added to the query, never shown.
"""

from __future__ import annotations

from mbc_navigator.knowledge.loader import KnowledgeBase

# Patient words -> words the pages use. Applied in both directions where it reads naturally.
PHRASES: dict[str, str] = {
    # how it is given
    "drip": "infusion intravenously bloodstream vein",
    "iv": "drip infusion intravenously",
    "infusion": "drip intravenously",
    "intravenous": "drip infusion",
    "jab": "injection under the skin subcutaneously",
    "shot": "injection under the skin subcutaneously",
    "injection": "subcutaneously under the skin",
    "injections": "injection subcutaneously",
    "subcutaneous": "injection under the skin",
    "pill": "tablet",
    "pills": "tablets",
    "capsule": "tablet",
    "by mouth": "tablet",
    "orally": "tablet",
    "oral": "tablet",
    # how often
    "how often": "every weeks",
    "frequency": "every weeks",
    "schedule": "every weeks cycle",
    "break": "stop taking break cycle",
    # spread
    "spread": "secondary advanced metastatic",
    "spreads": "secondary spread advanced",
    "spreading": "secondary spread advanced",
    "secondary": "spread advanced metastatic",
    "metastatic": "secondary spread advanced",
    "metastases": "secondary spread",
    "mets": "secondary spread",
    "stage 4": "secondary advanced",
    "stage iv": "secondary advanced",
    "advanced": "secondary spread",
    "come back": "recurred local recurrence",
    "came back": "recurred come back",
    "returned": "come back recurred",
    "recurrence": "come back recurred",
    # kinds of treatment
    "chemo": "chemotherapy",
    "immunotherapy": "immune checkpoint",
    "immune therapy": "immunotherapy",
    "biological": "biological targeted",
    "hormone blocker": "hormone therapy",
    "hormone pills": "hormone therapy",
    "hormonal": "hormone",
    "cdk4/6": "cdk4 cdk6 cancer growth blocker",
    "cdk": "cdk4 cdk6",
    "parp": "parp inhibitors",
    "adc": "antibody drug conjugate",
    # places of spread
    "brain": "brain central nervous system",
    "cns": "central nervous system brain",
    "spine": "spinal cord",
    "bone": "bones",
    "bones": "bone",
    "skeleton": "bones",
    "fracture": "fractures bones",
    "break a bone": "fractures",
    # receptors and tests
    "her2+": "her2 positive",
    "her2-": "her2 negative",
    "her-2": "her2",
    "tnbc": "triple negative",
    "er+": "hormone receptor positive oestrogen",
    "hr+": "hormone receptor positive",
    "estrogen": "oestrogen hormone",
    "pdl1": "pd l1",
    "pd-l1": "pdl1",
    "biopsy": "sample test",
    "mutation": "changes gene",
    "gene": "mutation changes",
    "menopause": "menopausal post",
    "postmenopausal": "past the menopause",
    # side effects and symptoms
    "side effect": "side effects",
    "tired": "tiredness fatigue",
    "exhausted": "tiredness fatigue",
    "fatigue": "tiredness",
    "tiredness": "fatigue",
    "sick": "sickness nausea",
    "nausea": "sickness",
    "vomiting": "sickness nausea",
    "throwing up": "sickness nausea",
    "diarrhea": "diarrhoea",
    "diarrhoea": "diarrhea",
    "runs": "diarrhoea",
    "rash": "skin rash",
    "itchy": "skin rash",
    "appetite": "poor appetite",
    "not hungry": "poor appetite",
    "constipated": "constipation",
    "headache": "headaches",
    "flu": "flu-like symptoms fever",
    "fever": "flu-like symptoms",
    "allergy": "allergic reaction",
    "allergic": "allergic reaction",
    "blood count": "low blood counts",
    "cough": "cough",
    "heart": "heart tests",
    "cardiac": "heart",
    "safe": "side effects",
    "hurt": "pain",
    "pain": "control pain",
    "autoimmune": "autoimmune immune system attack other body parts",
    # care and access
    "nhs": "nhs available",
    "free": "available nhs",
    "funding": "funded cancer drugs fund",
    "pay": "funded available nhs",
    "cost": "funded available nhs",
    "trial": "trials clinical research",
    "trials": "trial clinical research",
    "study": "research trials",
    "new drugs": "research new",
    "helpline": "nurses freephone call",
    "phone": "call freephone numbers contact",
    "call": "contact",
    "man": "men male",
    "men": "male",
    "male": "men",
    "husband": "men male",
    "stop working": "resistance no longer controlling",
    "stopped working": "resistance no longer controlling",
    "resistant": "resistance",
    "cure": "cured",
    "curable": "cured",
    "shrink": "reduce the size shrink",
    "again": "previously further treatment",
    "before": "previously already had",
}

# Names the pages use for a drug that is not its generic name or a brand in drugs.yaml.
DRUG_ALIASES: dict[str, str] = {
    "trasuzumab": "trastuzumab",  # a misspelling on page 002
    "deruxtecan": "trastuzumab-deruxtecan",
    "emtansine": "trastuzumab-emtansine",
    "t-dm1": "trastuzumab-emtansine",
    "t-dxd": "trastuzumab-deruxtecan",
    "enhertu": "trastuzumab-deruxtecan",
    "datopotamab deruxtecan": "",  # a drug under study (page 003), not trastuzumab deruxtecan
}


def brand_phrases(kb: KnowledgeBase) -> dict[str, str]:
    """Each brand name (lower case) -> the generic name the pages mostly use, from the knowledge base."""
    out: dict[str, str] = {}
    for drug in kb.drugs.values():
        for brand in drug.brands:
            out[brand.lower()] = drug.name
    for alias, drug_id in DRUG_ALIASES.items():
        named = kb.drugs.get(drug_id)
        if named is not None and alias != named.name:
            out.setdefault(alias, named.name)
    return out


def class_phrases(kb: KnowledgeBase, most: int = 4) -> dict[str, str]:
    """A kind of drug (its label, lower case) -> its drugs that the pages name, for small kinds only."""
    out: dict[str, str] = {}
    for cls in kb.classes.values():
        named = [d.name for d in kb.drugs.values() if cls.id in d.classes and any(c.source for c in d.about)]
        if 0 < len(named) <= most:
            out[cls.label.lower()] = " ".join(named)
    return out
