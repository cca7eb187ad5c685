"""Vetting vocabulary for projects: due-diligence checklist, do-no-harm questions, risk scale,
sectors, SDGs and standard impact indicators.

Pure Python, no models and no database: forms, admin screens, review workflows and reports
import these tuples so every reviewer works from the same list, in every portal language.

Most of it is drawn from the 2017 round-table paper on return migration and development
(IOM): the background paper of the Global Forum on Migration and Development (GFMD / FMMD,
2017-2018 Germany-Morocco co-chairmanship), "Mesa redonda 2: La migración y el desarrollo a
través de alianzas multilaterales y bilaterales: abrir perspectivas para un desarrollo
inclusivo. Sesión de mesa redonda 2.2: Fomento de los efectos positivos de los migrantes
retornados en el desarrollo" (English original: "Roundtable 2: Migration and Development
through Multilateral and Bilateral Partnerships: Creating Perspectives for Inclusive
Development. Roundtable Session 2.2: Fostering the development impact of returning
migrants"). Its footnote 1 says it was prepared from a proposal by the International
Organization for Migration (IOM / OIM), following the deliberations and written inputs of the
round table's co-chairs Nigeria and Switzerland, of the government team (Australia, Eritrea,
France, Germany, Guatemala, the Netherlands, Spain, Sweden, United Arab Emirates) and of the
non-state partners ICMPD, IFRC, ILO, OHCHR and UNCTAD, and that it does not necessarily
reflect the views of the GFMD organisers or participants. It is therefore cited as a GFMD
background paper drafted by IOM, not as an IOM publication.

The paper's sections are cited as §1 Introducción, §2 Cuestiones fundamentales (with its
sub-headings "Desarrollo", "El retorno voluntario", "AVRR", "Reintegración sostenible",
"Enfoques existentes"), §3 Desafíos, §4 Propuestas de acción and §5 Preguntas orientativas.
Its central ideas used here: reintegration must not favour returnees at the expense of the
community that stayed ("no perjudicar" / do no harm); returnees may face discrimination and
weak labour markets; their skills should be assessed and recognised; they need access to
credit and financial-literacy training; local governments and local development plans should
be involved from the design stage; every project needs evaluation.

Items the paper does not cover (identity checks, quotes, permits, environmental risk, the
risk scale, land prices, grievance channels) come from standard impact-investing due
diligence; their ``source`` says so.

Applying the risk scale: rate each factor named in the band descriptions and give the project
the band of its weakest factor, unless the reviewer records why a mitigation (a guarantee, a
signed purchase contract, a co-funding commitment) justifies a better band.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

__all__ = [
    "DO_NO_HARM_QUESTIONS",
    "DUE_DILIGENCE_CHECKLIST",
    "RISK_RATINGS",
    "SDGS",
    "SECTORS",
    "STANDARD_IMPACT_INDICATORS",
    "Criterion",
]

_STANDARD = "Standard impact-investing due diligence; not covered by the paper."


@dataclass(frozen=True)
class Criterion:
    """One item a reviewer checks and records an answer and a note for."""

    key: str
    #: Short name of the item, or the question, shown to the reviewer (lazy translation).
    label: Promise
    #: What the reviewer checks, in one to three sentences (lazy translation).
    guidance: Promise
    #: Where the item comes from: a place in the paper in plain words, or standard practice.
    source: str


DUE_DILIGENCE_CHECKLIST: tuple[Criterion, ...] = (
    Criterion(
        key="identity",
        label=_("Identity of the owner and team verified"),
        guidance=_(
            "Compare the identity documents of the owner, partners and key staff with the "
            "originals or a trusted verification service, and check the business registration "
            "and who ultimately owns or controls it. Screen all of them against sanctions "
            "lists and note any politically exposed person."
        ),
        source=_STANDARD + " (know-your-customer and beneficial-ownership checks).",
    ),
    Criterion(
        key="business_plan",
        label=_("Credible business plan"),
        guidance=_(
            "The plan names its customers, prices, competitors and suppliers, and its cash-flow "
            "projection states the assumptions behind it. Test those assumptions against the "
            "local market: sales volumes and prices should be what similar businesses in the "
            "area actually achieve."
        ),
        source=(
            _STANDARD + " The paper (§4, proposal on identifying structural factors) warns "
            "that labour markets in return communities may be underdeveloped and economic "
            "opportunities scarce for everyone, so plans must be checked against local "
            "conditions."
        ),
    ),
    Criterion(
        key="budget",
        label=_("Reasonable budget backed by quotes"),
        guidance=_(
            "Every large item (equipment, works, vehicles, stock) is backed by written quotes, "
            "two or more where the market allows, and prices match local prices. The budget "
            "includes working capital and a contingency, and shows how much the owner puts in."
        ),
        source=_STANDARD,
    ),
    Criterion(
        key="permits",
        label=_("Permits and licences in place or obtainable"),
        guidance=_(
            "List every permit the activity needs (business registration, tax registration, "
            "land use and building, health or sanitary, environmental, operating licences) "
            "and check each one is granted, or applied for with a realistic date."
        ),
        source=_STANDARD,
    ),
    Criterion(
        key="community_benefit",
        label=_("Community benefit assessed"),
        guidance=_(
            "Describe who besides the owner benefits and how: jobs, goods or services the "
            "community lacked, income for local suppliers. Check that the project answers a "
            "need the community itself has identified."
        ),
        source=(
            "§4, proposal on sharing information and best practice: local development "
            "initiatives centred on the needs of the local community are the most likely to "
            "meet returnees' needs too; §3, challenge on communities' needs: creating "
            "opportunities in the local community benefits both returnees and the community."
        ),
    ),
    Criterion(
        key="do_no_harm",
        label=_("Do-no-harm assessment done"),
        guidance=_(
            "Answer every do-no-harm question about the project's effect on the community that "
            "stayed, with evidence, and record the mitigation agreed for each risk found."
        ),
        source=(
            "§2 'Reintegración sostenible': reintegration measures must not favour migrants "
            "at the expense of the community they return to and must include it under the "
            "'do no harm' principle; §3, challenge on communities' needs: all activities must "
            "follow the humanitarian and development principle 'Do no Harm'."
        ),
    ),
    Criterion(
        key="environmental_social",
        label=_("Environmental and social risks identified and managed"),
        guidance=_(
            "Identify pollution, waste, water use, health and safety and labour risks, "
            "including wages, working hours and child labour, and check there is a plan and a "
            "budget to manage each one in proportion to its size."
        ),
        source=(
            _STANDARD + " The paper (§3, challenge on employment and self-employment) adds "
            "decent working conditions and respect for fundamental principles and rights at "
            "work."
        ),
    ),
    Criterion(
        key="skills_recognition",
        label=_("Returnee's skills and experience recognised and used"),
        guidance=_(
            "Record the skills, qualifications and work experience the owner or team gained "
            "abroad, whether they have been assessed or certified, and whether the project "
            "actually uses them. Experience abroad without local certification is not a reason "
            "to reject, but note it."
        ),
        source=(
            "§3, challenge on employment and self-employment: economic empowerment of "
            "returnees needs skills assessment, recognition of prior learning and "
            "certification; §4, proposal on return preparation and recognition or "
            "certification of skills acquired in the destination country."
        ),
    ),
    Criterion(
        key="local_jobs",
        label=_("Links to the local labour market and jobs for non-migrants"),
        guidance=_(
            "Check how many jobs the project creates, for whom, and on what terms, and how "
            "hiring will reach non-migrant residents. Note links with public employment "
            "services, training centres or local employers."
        ),
        source=(
            "§4, proposal on structural factors: labour markets may be weak for the whole "
            "population, not only returnees; §2 'Reintegración sostenible': reintegration "
            "should be linked to a strategy that keeps non-migrant communities from being "
            "disadvantaged; §2 'Enfoques existentes': engagement of public employment services."
        ),
    ),
    Criterion(
        key="local_government",
        label=_("Local government participation and fit with local development plans"),
        guidance=_(
            "Check whether the municipality or regional government was involved in the "
            "design, endorses the project in writing or co-funds it, and whether it fits the "
            "local development plan instead of duplicating existing programmes."
        ),
        source=(
            "§4, proposal on sharing information: link projects to local development "
            "initiatives to avoid duplicated, parallel structures; participatory design with "
            "migrants and local administrations; §5, first guiding question: build return "
            "and reintegration into national sustainable development plans."
        ),
    ),
    Criterion(
        key="financial_capability",
        label=_("Entrepreneur's financial capability"),
        guidance=_(
            "Check that the owner can keep accounts, separates business and household money, "
            "understands the cost of any loan, and has a bank or savings account. Recommend "
            "the portal's financial-literacy courses or local business training where gaps "
            "are found."
        ),
        source=(
            "§3, challenge on employment and self-employment: access to financial services "
            "(microfinance, savings, accounts, loans, insurance) and financial-literacy "
            "training; §4, proposal on diaspora, remittances and savings: financial training "
            "and advice."
        ),
    ),
    Criterion(
        key="monitoring",
        label=_("Monitoring and evaluation plan"),
        guidance=_(
            "Check that the project will report the standard impact indicators at agreed "
            "dates, who collects the data and how, and that it can keep going after the "
            "funding is spent."
        ),
        source=(
            "§4, proposal on data-driven programming: every project should include "
            "evaluation mechanisms, with long-term evaluations; §3, challenge on the lack of "
            "evaluation data on sustainable reintegration and measurable indicators."
        ),
    ),
)


DO_NO_HARM_QUESTIONS: tuple[Criterion, ...] = (
    Criterion(
        key="fair_access",
        label=_(
            "Does the project favour returnees over non-migrant residents in hiring or in "
            "access to credit, land or public support?"
        ),
        guidance=_(
            "Look at the hiring plan, who gets the jobs and the terms of any credit, land or "
            "subsidy involved. Any preference for returnees needs a stated reason and a "
            "balancing benefit for residents."
        ),
        source=(
            "§2 'Reintegración sostenible': measures must not favour migrants at the expense "
            "of the community and must avoid leaving non-migrant communities at a "
            "disadvantage; §5, second guiding question on balancing support to returnees and "
            "communities of origin."
        ),
    ),
    Criterion(
        key="displacement",
        label=_("Could the project displace existing local businesses or livelihoods?"),
        guidance=_(
            "List similar businesses nearby and judge whether subsidised competition could "
            "push them out. Prefer projects that add to local supply chains over ones that "
            "take existing customers."
        ),
        source=(
            "§4, proposal on sharing information: parallel structures competing for the same "
            "resources put projects at risk; §3, challenge on communities' needs: tensions "
            "between residents who stayed and returnees. Displacement of businesses itself is "
            "standard do-no-harm practice."
        ),
    ),
    Criterion(
        key="local_prices",
        label=_("Could the project push up local prices, especially of land or housing?"),
        guidance=_(
            "Consider whether land or property purchases, or an inflow of buyers or tourists, "
            "could price residents out, and whether the project buys land or goods in "
            "quantities large for the local market."
        ),
        source=_STANDARD + " In the spirit of §3 on tensions between residents and returnees.",
    ),
    Criterion(
        key="remittance_dependency",
        label=_("Does the project reduce or deepen the community's dependency on remittances?"),
        guidance=_(
            "Check whether the project produces its own income once built, or will need "
            "continued transfers from abroad to operate or maintain it."
        ),
        source=(
            "§4, proposal on diaspora, remittances and savings: remittances and savings often "
            "go to household consumption, and funds not put to productive use create "
            "dependency; §3: communities may lose remittance income once migrants return."
        ),
    ),
    Criterion(
        key="public_services",
        label=_(
            "Does the project put an extra burden on weak public services "
            "(water, health, schools, roads, waste)?"
        ),
        guidance=_(
            "Estimate the extra demand the project brings and ask the service provider or the "
            "municipality whether it can be met without cutting service to residents."
        ),
        source=(
            "§1: a returning migrant may put additional strain on already weak systems; §3, "
            "challenge on communities' needs: competition for social services can cause "
            "tensions between residents and returnees."
        ),
    ),
    Criterion(
        key="inclusion",
        label=_("Are women, young people and vulnerable groups included?"),
        guidance=_(
            "Check who owns, works in and benefits from the project, broken down by gender, "
            "and whether anything keeps women, young people, older people, indigenous people "
            "or people with disabilities out."
        ),
        source=(
            "§2 'Desarrollo': development as widening the choices of every person; §4, "
            "proposal on structural factors: equal enjoyment of rights. The paper does not "
            "discuss gender; this part is standard practice."
        ),
    ),
    Criterion(
        key="land_water_rights",
        label=_("Does the project respect existing land and water rights and customary uses?"),
        guidance=_(
            "Check title or lease documents for the site and any water source, and whether "
            "neighbours, communal landholders or indigenous communities use or claim them."
        ),
        source=_STANDARD,
    ),
    Criterion(
        key="consultation_grievance",
        label=_(
            "Was the community consulted, and is there a channel for residents to raise complaints?"
        ),
        guidance=_(
            "Record who was consulted, when, and what changed as a result. Check there is a "
            "named contact or channel for complaints, independent of the owner where possible, "
            "and how complaints will be answered."
        ),
        source=(
            "§4, proposal on sharing information: cooperation with local actors, including "
            "the return community, during design; participatory design helps mitigate "
            "conflicts. The grievance channel is standard practice."
        ),
    ),
    Criterion(
        key="benefit_sharing",
        label=_("Is there a plan to share the benefits with non-migrant residents?"),
        guidance=_(
            "Look for concrete commitments: hiring or training residents, buying from local "
            "suppliers, services open to everyone, or a share of profits for a community fund."
        ),
        source=(
            "§3, challenge on communities' needs: creating opportunities in the local "
            "community benefits returnees and their communities and eases the burden on "
            "communities that no longer receive remittances; §2 'Reintegración sostenible'."
        ),
    ),
)


RISK_RATINGS: tuple[tuple[str, Promise, Promise], ...] = (
    (
        "A",
        _("Low risk"),
        _(
            "An established business with at least three years of verifiable accounts, or an "
            "owner with a long record in the same activity; operating cash flow covers "
            "repayments comfortably; no customer takes more than a quarter of sales; all "
            "permits granted; collateral or a guarantee covers most of the funding."
        ),
    ),
    (
        "B",
        _("Moderate risk"),
        _(
            "Trading for at least a year with regular sales; cash flow covers planned "
            "repayments with some margin; a few main customers; all permits granted; partial "
            "collateral or a guarantee; only minor gaps the owner can close quickly."
        ),
    ),
    (
        "C",
        _("Substantial risk"),
        _(
            "Early stage with first sales or a pilot; cash-flow projections credible but "
            "unproven; depends on a few customers or a single season; secondary permits still "
            "pending with a clear path; little collateral; owner new to running a business "
            "but with relevant work experience."
        ),
    ),
    (
        "D",
        _("High risk"),
        _(
            "No sales yet; projections rely on optimistic assumptions; depends on one buyer or "
            "one supplier; a key permit (land use, building, environmental, operating licence) "
            "pending with uncertain timing; no collateral; owner without experience in this "
            "activity."
        ),
    ),
    (
        "E",
        _("Very high risk"),
        _(
            "Any of: an unresolved question about identity, ownership or land title; a key "
            "permit refused or not applied for; funding that does not reach the amount needed "
            "to operate, with no plan for the rest; the business depends on a contract not yet "
            "signed; a serious do-no-harm or environmental risk without mitigation. The "
            "project should not be offered to investors until these are resolved."
        ),
    ),
)


SECTORS: tuple[tuple[str, Promise], ...] = (
    ("agriculture", _("Agriculture and agro-processing")),
    ("crafts_manufacturing", _("Crafts and small manufacturing")),
    ("tourism", _("Tourism and hospitality")),
    ("retail_trade", _("Retail and trade")),
    ("education", _("Education and training")),
    ("health", _("Health")),
    ("renewable_energy", _("Renewable energy")),
    ("water_sanitation", _("Water and sanitation")),
    ("housing", _("Housing")),
    ("digital_services", _("Digital services")),
    ("transport", _("Transport")),
    ("community_infrastructure", _("Community infrastructure")),
)


#: The 17 Sustainable Development Goals with their official short English names.
SDGS: tuple[tuple[int, Promise], ...] = (
    (1, _("No poverty")),
    (2, _("Zero hunger")),
    (3, _("Good health and well-being")),
    (4, _("Quality education")),
    (5, _("Gender equality")),
    (6, _("Clean water and sanitation")),
    (7, _("Affordable and clean energy")),
    (8, _("Decent work and economic growth")),
    (9, _("Industry, innovation and infrastructure")),
    (10, _("Reduced inequalities")),
    (11, _("Sustainable cities and communities")),
    (12, _("Responsible consumption and production")),
    (13, _("Climate action")),
    (14, _("Life below water")),
    (15, _("Life on land")),
    (16, _("Peace, justice and strong institutions")),
    (17, _("Partnerships for the goals")),
)


#: Indicators every project reports, as (key, label, unit). The "of which" job indicators are
#: subsets of ``jobs_created``. The last three come from the paper: vocational training and
#: skills certification (§2 'Enfoques existentes', §3 and §4) and links with the local economy
#: (§4).
STANDARD_IMPACT_INDICATORS: tuple[tuple[str, Promise, Promise], ...] = (
    ("jobs_created", _("Jobs created"), _("full-time equivalent jobs")),
    ("jobs_returnees", _("of which held by returnees"), _("full-time equivalent jobs")),
    ("jobs_women", _("of which held by women"), _("full-time equivalent jobs")),
    (
        "jobs_non_migrants",
        _("of which held by non-migrant residents"),
        _("full-time equivalent jobs"),
    ),
    ("beneficiaries", _("People who benefit"), _("people")),
    ("revenue", _("Revenue"), _("amount per year, in the project's currency")),
    ("people_trained", _("People trained"), _("people")),
    ("skills_certified", _("People whose skills were assessed or certified"), _("people")),
    ("local_suppliers", _("Local suppliers used"), _("suppliers")),
)
