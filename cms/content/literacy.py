"""Seed content for the financial-literacy courses, as plain Python data.

A seed command loads ``COURSES`` into Wagtail pages (one page per course, one child page per
lesson); nothing here imports Wagtail or Django, so the content can be read, reviewed and
tested on its own.

Structure
---------
``COURSES`` is a tuple of courses. Every user-visible text is a *localized text*: a dict
keyed by language code with one entry per code in ``LANGUAGES``, e.g.
``{"en": "Budgeting your return", "es": "Presupuestar el regreso"}``. English and Spanish
sit side by side here (rather than in two parallel trees) so a reviewer sees each sentence
next to its translation; French, Portuguese and Arabic come from one file per language in
``cms/content/translations``, each entry with the English it translates, so an edit of the
English shows which translations it left behind. Paragraphs are plain text, not HTML.

- course: ``slug``, ``title``, ``summary``, ``lessons`` (2-3)
- lesson: ``slug`` (unique within the course), ``title``, ``intro``, ``sections``,
  ``worked_example``, ``quiz`` (2-3 questions)
- section: ``heading``, ``paragraphs`` (a tuple of localized texts)
- worked example: ``title``, ``text`` (the computation in words, with every number) and
  ``calculations``: machine-checkable figures, each ``kind``, ``inputs`` and ``results``
  (dicts of :class:`~decimal.Decimal`), recomputed by the tests. Each stated result is the
  exact value rounded half-up to the number of decimals written.
- quiz question: ``question``, ``choices`` (each ``text`` and ``feedback``) and
  ``correct``, the index of the one correct choice.

Numbers in the text: English uses a decimal point and comma thousands ("2,269.44");
Spanish uses a decimal point (accepted by the RAE and usual in Mexico, Central America and
the Caribbean) and, for five digits or more, a non-breaking space between thousands
("20 000"; four-digit numbers are written without a separator: "8000"). French and
Portuguese use a decimal comma and a space between thousands ("2 269,44"); Arabic uses
Latin digits with a decimal point and comma thousands, as the portal writes money in Arabic.

Calculation kinds (percentages are given as percent, e.g. ``2.5`` for 2.5 %):

- ``remittance_cost``: amount, fee, margin_percent [, mid_rate] [, target_percent] ->
  margin_cost = amount x margin / 100; total_cost = fee + margin_cost;
  cost_percent = total_cost / amount x 100; with mid_rate (local currency per USD):
  offered_rate = mid_rate x (1 - margin / 100), received = amount x offered_rate,
  received_at_mid_rate = amount x mid_rate; with target_percent:
  target_cost = amount x target / 100.
- ``repeated_saving``: saving_per_transfer, transfers -> total_saving (product).
- ``return_budget``: savings, travel, shipping, documents, monthly_living_costs,
  reserve_months -> one_off_total, reserve = monthly x months,
  available = savings - one_off_total - reserve.
- ``savings_plan``: target, saved, months -> remaining = target - saved,
  monthly_saving = remaining / months.
- ``effective_annual_rate``: monthly_rate_percent -> nominal_annual_percent (x 12),
  effective_annual_percent = ((1 + r) ** 12 - 1) x 100.
- ``flat_interest``: principal, monthly_rate_percent, months -> total_interest =
  principal x r x months; monthly_payment = (principal + total_interest) / months.
- ``amortizing_loan`` (declining balance, equal payments): principal,
  monthly_rate_percent, months -> monthly_payment = P r / (1 - (1 + r) ** -n) rounded to
  cents; total_paid = rounded payment x n; total_interest = total_paid - P.
- ``debt_ratio``: monthly_income, existing_payments, new_payment -> total_payments,
  ratio_percent = total_payments / income x 100.
- ``bond_cash_flows``: face_value, coupon_percent, years -> annual_coupon,
  total_coupons, total_received = face_value + total_coupons.
- ``currency_change``: amount_local, rate_start, rate_end (local currency per USD) ->
  value_start, value_end (in USD), change_percent = (end / start - 1) x 100.
- ``recovery_gain``: loss_percent -> required_gain_percent = loss / (100 - loss) x 100.
- ``diversification``: total, projects, failed, return_percent -> per_project,
  value_after = (projects - failed) x per_project x (1 + return / 100),
  change_percent = (value_after / total - 1) x 100.
- ``payback``: cost, gain_per_day -> days = cost / gain_per_day.
- ``funding_split``: total_cost, own_funds -> borrowed, own_share_percent.
- ``break_even``: fixed_costs, price, variable_cost, working_days -> unit_margin,
  break_even_units = fixed_costs / unit_margin, units_per_day.
- ``compound_growth``: principal, monthly_rate_percent, months -> final_value,
  gain_percent.
- ``pyramid``: recruits_per_person, levels -> people_at_last_level = recruits ** levels,
  total_people = sum of recruits ** k for k = 1..levels.

The course on starting a business after return draws on the 2017 GFMD round-table background
paper (session 2.2, "Fostering the development impact of returning migrants", prepared from
an IOM proposal): skills recognition, local networks, discrimination against returnees, weak
local labour markets and access to credit.
"""

from decimal import Decimal
from typing import TypedDict

from . import translations

#: Every localized text has these: English and Spanish written here, French, Portuguese
#: and Arabic added from ``cms.content.translations`` (at the end of this module).
LANGUAGES = ("en", "es", *translations.LANGUAGES)

#: A text in every language of ``LANGUAGES``, keyed by language code.
LocalizedText = dict[str, str]


class Section(TypedDict):
    heading: LocalizedText
    paragraphs: tuple[LocalizedText, ...]


class Calculation(TypedDict):
    kind: str
    inputs: dict[str, Decimal]
    results: dict[str, Decimal]


class WorkedExample(TypedDict):
    title: LocalizedText
    text: LocalizedText
    calculations: tuple[Calculation, ...]


class Choice(TypedDict):
    text: LocalizedText
    feedback: LocalizedText


class QuizQuestion(TypedDict):
    question: LocalizedText
    choices: tuple[Choice, ...]
    correct: int


class Lesson(TypedDict):
    slug: str
    title: LocalizedText
    intro: LocalizedText
    sections: tuple[Section, ...]
    worked_example: WorkedExample
    quiz: tuple[QuizQuestion, ...]


class Course(TypedDict):
    slug: str
    title: LocalizedText
    summary: LocalizedText
    lessons: tuple[Lesson, ...]


def _t(en: str, es: str) -> LocalizedText:
    return {"en": en, "es": es}


def _section(heading: LocalizedText, *paragraphs: LocalizedText) -> Section:
    return {"heading": heading, "paragraphs": paragraphs}


def _calc(kind: str, inputs: dict[str, str], results: dict[str, str]) -> Calculation:
    return {
        "kind": kind,
        "inputs": {name: Decimal(value) for name, value in inputs.items()},
        "results": {name: Decimal(value) for name, value in results.items()},
    }


def _choice(text: LocalizedText, feedback: LocalizedText) -> Choice:
    return {"text": text, "feedback": feedback}


def _question(question: LocalizedText, correct: int, *choices: Choice) -> QuizQuestion:
    return {"question": question, "choices": choices, "correct": correct}


# --- (a) Sending money home cheaply ------------------------------------------------------

_SENDING_MONEY_HOME: Course = {
    "slug": "sending-money-home",
    "title": _t("Sending money home for less", "Enviar dinero a casa por menos"),
    "summary": _t(
        "What a remittance really costs (the fee plus the exchange-rate margin) and how to "
        "compare providers.",
        "Cuánto cuesta de verdad una remesa (la comisión más el margen del tipo de cambio) y "
        "cómo comparar proveedores.",
    ),
    "lessons": (
        {
            "slug": "what-a-remittance-really-costs",
            "title": _t("What a remittance really costs", "Cuánto cuesta de verdad una remesa"),
            "intro": _t(
                "Most providers advertise a low fee. The fee is only part of the price: the "
                "other part is hidden in the exchange rate.",
                "La mayoría de los proveedores anuncia una comisión baja. La comisión es solo "
                "una parte del precio: la otra está escondida en el tipo de cambio.",
            ),
            "sections": (
                _section(
                    _t("The two parts of the price", "Las dos partes del precio"),
                    _t(
                        "When you send money abroad you usually pay twice. First there is the "
                        "fee, the amount the provider charges for each transfer. Second there "
                        "is the exchange-rate margin: the provider converts your dollars at a "
                        "rate less favourable than the mid-market rate (the rate banks use "
                        "among themselves, which you can look up on news or currency "
                        "websites) and keeps the difference.",
                        "Cuando envía dinero al extranjero, normalmente paga dos veces. "
                        "Primero está la comisión, lo que el proveedor cobra por cada envío. "
                        "Después está el margen del tipo de cambio: el proveedor convierte sus "
                        "dólares a un tipo menos favorable que el tipo de cambio medio del "
                        "mercado (el que usan los bancos entre sí y que puede consultar en "
                        "sitios de noticias o de divisas) y se queda con la diferencia.",
                    ),
                    _t(
                        "A transfer advertised as 'no fee' can still be expensive if the "
                        "margin is large. To know the real cost, add the fee and the margin, "
                        "and compare the total with the amount you send.",
                        "Un envío anunciado como «sin comisión» puede salir caro si el margen "
                        "es grande. Para conocer el costo real, sume la comisión y el margen y "
                        "compare el total con la cantidad que envía.",
                    ),
                ),
                _section(
                    _t("The 3 percent target", "La meta del 3 por ciento"),
                    _t(
                        "In 2015 the world's governments adopted the Sustainable Development "
                        "Goals. Target 10.c is to reduce the transaction costs of migrant "
                        "remittances to less than 3 percent by 2030, and to eliminate "
                        "remittance corridors with costs higher than 5 percent. The global "
                        "average has been around 6 percent or more in recent years, so most "
                        "senders still pay well above the target.",
                        "En 2015 los gobiernos del mundo adoptaron los Objetivos de Desarrollo "
                        "Sostenible. La meta 10.c consiste en reducir a menos del 3 por ciento "
                        "los costos de transacción de las remesas de los migrantes para 2030 y "
                        "eliminar los corredores de remesas con costos superiores al 5 por "
                        "ciento. En los últimos años el promedio mundial ha rondado el 6 por "
                        "ciento o más, así que la mayoría de quienes envían dinero todavía "
                        "pagan bastante más que la meta.",
                    ),
                    _t(
                        "The World Bank publishes the cost of sending the equivalent of 200 "
                        "and 500 US dollars through many providers and country pairs on its "
                        "Remittance Prices Worldwide website, a good place to start comparing.",
                        "El Banco Mundial publica el costo de enviar el equivalente de 200 y "
                        "500 dólares estadounidenses con muchos proveedores y entre muchos "
                        "pares de países en su sitio Remittance Prices Worldwide, un buen "
                        "punto de partida para comparar.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("Sending 300 USD", "Enviar 300 USD"),
                "text": _t(
                    "You send 300 USD and pay a 5 USD fee on top. The mid-market rate is 18.00 "
                    "pesos per dollar, but the provider pays 17.55, which is 2.5% less. Your "
                    "family receives 300 × 17.55 = 5,265.00 pesos instead of 300 × 18.00 = "
                    "5,400.00 pesos. The margin cost you 300 × 2.5% = 7.50 USD, so the total "
                    "cost is 5 + 7.50 = 12.50 USD, or 12.50 ÷ 300 = 4.17% of what you sent "
                    "(about 4.2%). At the 3% target the same transfer would cost at most "
                    "9.00 USD.",
                    "Usted envía 300 USD y paga aparte una comisión de 5 USD. El tipo de cambio "
                    "medio del mercado es de 18.00 pesos por dólar, pero el proveedor paga "
                    "17.55, un 2.5% menos. Su familia recibe 300 × 17.55 = 5265.00 pesos en "
                    "lugar de 300 × 18.00 = 5400.00 pesos. El margen le costó 300 × 2.5% = "
                    "7.50 USD, así que el costo total es 5 + 7.50 = 12.50 USD, es decir, "
                    "12.50 ÷ 300 = 4.17% de lo que envió (alrededor del 4.2%). Con la meta del "
                    "3%, el mismo envío costaría como máximo 9.00 USD.",
                ),
                "calculations": (
                    _calc(
                        "remittance_cost",
                        {
                            "amount": "300",
                            "fee": "5",
                            "margin_percent": "2.5",
                            "mid_rate": "18.00",
                            "target_percent": "3",
                        },
                        {
                            "margin_cost": "7.50",
                            "total_cost": "12.50",
                            "cost_percent": "4.17",
                            "offered_rate": "17.55",
                            "received": "5265.00",
                            "received_at_mid_rate": "5400.00",
                            "target_cost": "9.00",
                        },
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "You send 200 USD. There is no fee, and the provider's rate is 4% "
                        "below the mid-market rate. What does the transfer cost you?",
                        "Usted envía 200 USD. No hay comisión y el tipo que aplica el "
                        "proveedor está un 4% por debajo del tipo medio del mercado. ¿Cuánto "
                        "le cuesta el envío?",
                    ),
                    1,
                    _choice(
                        _t("Nothing, because there is no fee", "Nada, porque no hay comisión"),
                        _t(
                            "The fee is zero, but the 4% margin on 200 USD costs you 8 USD.",
                            "La comisión es cero, pero el margen del 4% sobre 200 USD le "
                            "cuesta 8 USD.",
                        ),
                    ),
                    _choice(
                        _t("8 USD, 4% of what you send", "8 USD, el 4% de lo que envía"),
                        _t(
                            "Right: 200 × 4% = 8 USD, all of it hidden in the exchange rate.",
                            "Correcto: 200 × 4% = 8 USD, todo escondido en el tipo de cambio.",
                        ),
                    ),
                    _choice(
                        _t("4 USD", "4 USD"),
                        _t(
                            "4 is the percentage, not the amount: 4% of 200 USD is 8 USD.",
                            "4 es el porcentaje, no el monto: el 4% de 200 USD son 8 USD.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "What is the Sustainable Development Goal target for the cost of "
                        "sending remittances?",
                        "¿Cuál es la meta de los Objetivos de Desarrollo Sostenible para el "
                        "costo de enviar remesas?",
                    ),
                    0,
                    _choice(
                        _t("Less than 3% by 2030", "Menos del 3% para 2030"),
                        _t(
                            "Right: target 10.c aims for costs below 3% and no corridor above 5%.",
                            "Correcto: la meta 10.c busca costos inferiores al 3% y ningún "
                            "corredor por encima del 5%.",
                        ),
                    ),
                    _choice(
                        _t("Less than 10%", "Menos del 10%"),
                        _t(
                            "The target is much lower: less than 3% of the amount sent.",
                            "La meta es mucho más baja: menos del 3% de lo enviado.",
                        ),
                    ),
                    _choice(
                        _t("No cost at all", "Ningún costo"),
                        _t(
                            "Sending money always has some cost; the target is to bring it "
                            "below 3%.",
                            "Enviar dinero siempre cuesta algo; la meta es que cueste menos "
                            "del 3%.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "Which rate should you compare the provider's exchange rate with?",
                        "¿Con qué tipo de cambio debe comparar el que le ofrece el proveedor?",
                    ),
                    0,
                    _choice(
                        _t("The mid-market rate", "El tipo de cambio medio del mercado"),
                        _t(
                            "Right: the gap between the two is the margin you pay.",
                            "Correcto: la diferencia entre los dos es el margen que usted paga.",
                        ),
                    ),
                    _choice(
                        _t("The rate on the provider's own poster", "El del cartel del proveedor"),
                        _t(
                            "That is the rate you are offered; you need an independent rate "
                            "to see the margin in it.",
                            "Ese es el tipo que le ofrecen; necesita un tipo independiente "
                            "para ver el margen que incluye.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Yesterday's rate from the same provider",
                            "El de ayer del mismo proveedor",
                        ),
                        _t(
                            "Comparing a provider with itself does not show its margin; use "
                            "the mid-market rate.",
                            "Comparar a un proveedor consigo mismo no muestra su margen; use "
                            "el tipo medio del mercado.",
                        ),
                    ),
                ),
            ),
        },
        {
            "slug": "choosing-a-provider",
            "title": _t("Choosing a provider", "Elegir un proveedor"),
            "intro": _t(
                "The cheapest way to send depends on the amount, the countries and how your "
                "family collects the money. Comparing the total cost of two or three options "
                "can save a lot over a year.",
                "La forma más barata de enviar depende del monto, de los países y de cómo "
                "recibe el dinero su familia. Comparar el costo total de dos o tres opciones "
                "puede ahorrarle mucho en un año.",
            ),
            "sections": (
                _section(
                    _t("Compare what arrives", "Compare lo que llega"),
                    _t(
                        "The simplest comparison is the amount your family receives for the "
                        "same amount paid by you, on the same day. Ask each provider, or use "
                        "its online calculator, for the total you pay and the amount "
                        "delivered in local currency. The option that delivers the most for "
                        "the same payment is the cheapest, whatever its fee is called.",
                        "La comparación más sencilla es cuánto recibe su familia por lo mismo "
                        "que usted paga, el mismo día. Pida a cada proveedor, o use su "
                        "calculadora en línea, el total que usted paga y el monto que se "
                        "entrega en moneda local. La opción que entrega más por el mismo pago "
                        "es la más barata, se llame como se llame su comisión.",
                    ),
                    _t(
                        "Check also how the money is collected: a bank deposit or a mobile "
                        "wallet may cost less than cash pick-up, but only if your family can "
                        "use it easily and safely.",
                        "Fíjese también en cómo se cobra el dinero: un depósito bancario o una "
                        "billetera móvil pueden costar menos que el retiro en efectivo, pero "
                        "solo si su familia puede usarlos con facilidad y seguridad.",
                    ),
                ),
                _section(
                    _t("Habits that lower the cost", "Hábitos que bajan el costo"),
                    _t(
                        "Fixed fees weigh more on small transfers: one transfer of 300 USD "
                        "usually costs less than three of 100 USD. If your family can plan "
                        "ahead, sending less often but more each time saves money.",
                        "Las comisiones fijas pesan más en los envíos pequeños: un envío de "
                        "300 USD suele costar menos que tres de 100 USD. Si su familia puede "
                        "planificar, enviar con menos frecuencia pero más cada vez ahorra "
                        "dinero.",
                    ),
                    _t(
                        "Keep records of what you send. They help you compare, and some banks "
                        "and microfinance institutions take a history of regular remittances "
                        "into account when your family opens an account or applies for a loan.",
                        "Guarde un registro de lo que envía. Le ayuda a comparar, y algunos "
                        "bancos e instituciones de microfinanzas toman en cuenta un historial "
                        "de remesas regulares cuando su familia abre una cuenta o pide un "
                        "préstamo.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("Two offers for 200 USD", "Dos ofertas para 200 USD"),
                "text": _t(
                    "Provider A charges no fee but converts at a rate 4% below the mid-market "
                    "rate: the margin costs 200 × 4% = 8.00 USD, which is 4.00% of the amount. "
                    "Provider B charges a 3 USD fee and a 1% margin of 2.00 USD: 5.00 USD in "
                    "total, or 2.50%. The offer with a fee is cheaper by 3.00 USD; for 12 "
                    "transfers a year that is 36.00 USD.",
                    "El proveedor A no cobra comisión, pero convierte a un tipo un 4% inferior "
                    "al tipo medio del mercado: el margen cuesta 200 × 4% = 8.00 USD, el 4.00% "
                    "del monto. El proveedor B cobra una comisión de 3 USD y un margen del 1%, "
                    "de 2.00 USD: 5.00 USD en total, o sea, el 2.50%. La oferta con comisión "
                    "es 3.00 USD más barata; con 12 envíos al año son 36.00 USD.",
                ),
                "calculations": (
                    _calc(
                        "remittance_cost",
                        {"amount": "200", "fee": "0", "margin_percent": "4"},
                        {"margin_cost": "8.00", "total_cost": "8.00", "cost_percent": "4.00"},
                    ),
                    _calc(
                        "remittance_cost",
                        {"amount": "200", "fee": "3", "margin_percent": "1"},
                        {"margin_cost": "2.00", "total_cost": "5.00", "cost_percent": "2.50"},
                    ),
                    _calc(
                        "repeated_saving",
                        {"saving_per_transfer": "3.00", "transfers": "12"},
                        {"total_saving": "36.00"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "You pay the same total to send money with two providers. Provider A "
                        "delivers 5,250 pesos and provider B 5,310 pesos. Which is cheaper?",
                        "Usted paga lo mismo por enviar dinero con dos proveedores. El "
                        "proveedor A entrega 5250 pesos y el B, 5310 pesos. ¿Cuál es más "
                        "barato?",
                    ),
                    1,
                    _choice(
                        _t("Provider A", "El proveedor A"),
                        _t(
                            "For the same payment A delivers 60 pesos less, so it costs more.",
                            "Por el mismo pago, A entrega 60 pesos menos, así que cuesta más.",
                        ),
                    ),
                    _choice(
                        _t("Provider B", "El proveedor B"),
                        _t(
                            "Right: for the same payment, more money arrives.",
                            "Correcto: por el mismo pago llega más dinero.",
                        ),
                    ),
                    _choice(
                        _t(
                            "You cannot tell without knowing the fees",
                            "No se puede saber sin conocer las comisiones",
                        ),
                        _t(
                            "You can: the fees are already in the total you pay, which is the "
                            "same, so compare what arrives.",
                            "Sí se puede: las comisiones ya están en el total que usted paga, "
                            "que es el mismo, así que compare lo que llega.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "Why is one transfer of 300 USD usually cheaper than three transfers "
                        "of 100 USD?",
                        "¿Por qué un envío de 300 USD suele ser más barato que tres envíos de "
                        "100 USD?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Because the fixed fee is paid once instead of three times",
                            "Porque la comisión fija se paga una vez y no tres",
                        ),
                        _t(
                            "Right: the margin is usually the same percentage, but the fee is "
                            "charged on every transfer.",
                            "Correcto: el margen suele ser el mismo porcentaje, pero la "
                            "comisión se cobra en cada envío.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Because exchange rates are always better for large amounts",
                            "Porque el tipo de cambio siempre es mejor para montos grandes",
                        ),
                        _t(
                            "Not always; the saving comes mainly from paying the fee once.",
                            "No siempre; el ahorro viene sobre todo de pagar la comisión una "
                            "sola vez.",
                        ),
                    ),
                    _choice(
                        _t("It is never cheaper", "Nunca es más barato"),
                        _t(
                            "With a fixed fee per transfer it usually is: you pay that fee "
                            "once instead of three times.",
                            "Con una comisión fija por envío suele serlo: paga esa comisión "
                            "una vez en lugar de tres.",
                        ),
                    ),
                ),
            ),
        },
    ),
}


# --- (b) Budgeting a return --------------------------------------------------------------

_BUDGETING_A_RETURN: Course = {
    "slug": "budgeting-a-return",
    "title": _t("Budgeting your return", "Presupuestar el regreso"),
    "summary": _t(
        "How much money a return really needs, why to keep a reserve for the first months, "
        "and how to save for it before you go.",
        "Cuánto dinero necesita de verdad un regreso, por qué conviene guardar una reserva "
        "para los primeros meses y cómo ahorrar para ello antes de partir.",
    ),
    "lessons": (
        {
            "slug": "the-real-cost-of-returning",
            "title": _t("The real cost of returning", "El costo real de regresar"),
            "intro": _t(
                "Returning home is a big financial step, for you and for a family that may "
                "have been living partly on your remittances. A written budget helps you "
                "decide when to return and how much you can put into a business or an "
                "investment.",
                "Regresar es un paso financiero importante, para usted y para una familia que "
                "quizá vivía en parte de sus remesas. Un presupuesto por escrito le ayuda a "
                "decidir cuándo volver y cuánto puede destinar a un negocio o a una inversión.",
            ),
            "sections": (
                _section(
                    _t("One-off costs and the first months", "Gastos únicos y primeros meses"),
                    _t(
                        "List the one-off costs first: travel, shipping your belongings, "
                        "documents and their certification or translation, housing deposits, "
                        "and what you must buy to start working. Then estimate the monthly "
                        "cost of living where you will live, at today's local prices.",
                        "Anote primero los gastos únicos: el viaje, el envío de sus "
                        "pertenencias, los documentos y su certificación o traducción, los "
                        "depósitos de la vivienda y lo que deba comprar para empezar a "
                        "trabajar. Luego calcule el costo mensual de vida en el lugar donde "
                        "vivirá, con los precios locales de hoy.",
                    ),
                    _t(
                        "Plan for a slow start. Finding work or building up a business "
                        "usually takes months, and in many home communities the labour "
                        "market is weak for everyone, not only for returnees. Keep a reserve "
                        "for several months of living costs (six is a common rule) before you "
                        "spend savings on a business.",
                        "Cuente con un comienzo lento. Encontrar trabajo o sacar adelante un "
                        "negocio suele llevar meses, y en muchas comunidades de origen el "
                        "mercado laboral es débil para todos, no solo para quienes regresan. "
                        "Guarde una reserva para varios meses de gastos (seis es una regla "
                        "habitual) antes de gastar ahorros en un negocio.",
                    ),
                ),
                _section(
                    _t("The income your family will lose", "Los ingresos que perderá su familia"),
                    _t(
                        "If your family receives remittances from you, that income stops or "
                        "falls when you come back, just when household costs may rise. Talk "
                        "with them early about how the household budget will change.",
                        "Si su familia recibe remesas de usted, ese ingreso se acaba o baja "
                        "cuando usted vuelve, justo cuando los gastos del hogar pueden subir. "
                        "Hable con ellos con tiempo sobre cómo cambiará el presupuesto "
                        "familiar.",
                    ),
                    _t(
                        "A 2017 background paper for the Global Forum on Migration and "
                        "Development notes that communities of return can lose the benefit "
                        "of remittances, and that a return decided and planned in advance, "
                        "with reliable information about the local job market, is more "
                        "likely to succeed.",
                        "Un documento de antecedentes de 2017 del Foro Mundial sobre Migración "
                        "y Desarrollo señala que las comunidades de retorno pueden dejar de "
                        "contar con las remesas, y que un regreso decidido y planificado con "
                        "antelación, con información fiable sobre el mercado laboral local, "
                        "tiene más probabilidades de salir bien.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t(
                    "A return budget with 8,000 USD saved",
                    "Un presupuesto de regreso con 8000 USD ahorrados",
                ),
                "text": _t(
                    "María has saved 8,000 USD. Her one-off costs are travel 900 USD, shipping "
                    "600 USD and documents 150 USD: 1,650 USD in all. Living costs at home "
                    "will be about 500 USD a month, so a reserve for 6 months is 500 × 6 = "
                    "3,000 USD. That leaves 8,000 − 1,650 − 3,000 = 3,350 USD she could put "
                    "into a business or an investment without touching the reserve.",
                    "María ha ahorrado 8000 USD. Sus gastos únicos son el viaje, 900 USD; el "
                    "envío de pertenencias, 600 USD, y los documentos, 150 USD: 1650 USD en "
                    "total. Vivir en su país le costará unos 500 USD al mes, así que una "
                    "reserva para 6 meses es de 500 × 6 = 3000 USD. Le quedan 8000 − 1650 − "
                    "3000 = 3350 USD que podría destinar a un negocio o a una inversión sin "
                    "tocar la reserva.",
                ),
                "calculations": (
                    _calc(
                        "return_budget",
                        {
                            "savings": "8000",
                            "travel": "900",
                            "shipping": "600",
                            "documents": "150",
                            "monthly_living_costs": "500",
                            "reserve_months": "6",
                        },
                        {"one_off_total": "1650", "reserve": "3000", "available": "3350"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "Why keep a reserve of several months of living costs before "
                        "investing savings in a business?",
                        "¿Por qué guardar una reserva de varios meses de gastos antes de "
                        "invertir ahorros en un negocio?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Because income after return often takes months to build up",
                            "Porque los ingresos tras el regreso suelen tardar meses en llegar",
                        ),
                        _t(
                            "Right: the reserve lets you and your family live while work or "
                            "the business gets going.",
                            "Correcto: la reserva les permite vivir a usted y a su familia "
                            "mientras arranca el trabajo o el negocio.",
                        ),
                    ),
                    _choice(
                        _t("Because banks require it", "Porque los bancos lo exigen"),
                        _t(
                            "Banks do not usually require it; the reserve protects you if "
                            "income is slow to come.",
                            "Los bancos no suelen exigirlo; la reserva le protege si los "
                            "ingresos tardan en llegar.",
                        ),
                    ),
                    _choice(
                        _t(
                            "It is not needed if the business plan is good",
                            "No hace falta si el plan de negocio es bueno",
                        ),
                        _t(
                            "Even good plans start more slowly than expected; the reserve "
                            "keeps a slow start from becoming a crisis.",
                            "Incluso los buenos planes arrancan más despacio de lo previsto; "
                            "la reserva evita que un comienzo lento se convierta en una "
                            "crisis.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "You have saved 6,000 USD, your one-off costs are 1,200 USD and living "
                        "costs will be 400 USD a month. How much is left after a six-month "
                        "reserve?",
                        "Usted ha ahorrado 6000 USD, sus gastos únicos son de 1200 USD y "
                        "vivir le costará 400 USD al mes. ¿Cuánto le queda después de una "
                        "reserva de seis meses?",
                    ),
                    0,
                    _choice(
                        _t("2,400 USD", "2400 USD"),
                        _t(
                            "Right: 6,000 − 1,200 − (400 × 6) = 2,400 USD.",
                            "Correcto: 6000 − 1200 − (400 × 6) = 2400 USD.",
                        ),
                    ),
                    _choice(
                        _t("4,800 USD", "4800 USD"),
                        _t(
                            "That forgets the reserve of 400 × 6 = 2,400 USD.",
                            "Así se olvida la reserva de 400 × 6 = 2400 USD.",
                        ),
                    ),
                    _choice(
                        _t("3,600 USD", "3600 USD"),
                        _t(
                            "That forgets the one-off costs of 1,200 USD.",
                            "Así se olvidan los gastos únicos de 1200 USD.",
                        ),
                    ),
                ),
            ),
        },
        {
            "slug": "saving-for-your-return",
            "title": _t("Saving for your return", "Ahorrar para el regreso"),
            "intro": _t(
                "Once you know how much you need, turn the total into a monthly saving goal "
                "and keep the money where it is safe and easy to follow.",
                "Cuando sepa cuánto necesita, convierta el total en una meta de ahorro mensual "
                "y guarde el dinero donde esté seguro y sea fácil de seguir.",
            ),
            "sections": (
                _section(
                    _t("From a total to a monthly amount", "De un total a un monto mensual"),
                    _t(
                        "Subtract what you have already saved from the total you need, and "
                        "divide by the number of months left before you plan to return. If "
                        "the monthly figure is more than you can save, the date or the plan "
                        "has to change: it is better to adjust now than to return without a "
                        "reserve.",
                        "Reste lo que ya tiene ahorrado del total que necesita y divida entre "
                        "los meses que faltan para su regreso. Si la cifra mensual es mayor "
                        "de lo que puede ahorrar, hay que cambiar la fecha o el plan: es mejor "
                        "ajustar ahora que regresar sin reserva.",
                    ),
                    _t(
                        "Count every regular commitment you have abroad: rent, debts, the "
                        "remittances your family still needs. A saving goal you cannot keep "
                        "is not a plan.",
                        "Cuente todos sus compromisos fijos en el extranjero: el alquiler, las "
                        "deudas, las remesas que su familia todavía necesita. Una meta de "
                        "ahorro que no puede cumplir no es un plan.",
                    ),
                ),
                _section(
                    _t("Where to keep the savings", "Dónde guardar los ahorros"),
                    _t(
                        "Keep return savings in a regulated bank or savings account in your "
                        "own name, where you can see the balance. Cash at home can be lost or "
                        "stolen, and money lent informally to friends or relatives is often "
                        "hard to get back on time.",
                        "Guarde los ahorros para el regreso en un banco o una cuenta de "
                        "ahorro regulados, a su nombre, donde pueda ver el saldo. El efectivo "
                        "en casa se puede perder o se lo pueden robar, y el dinero prestado "
                        "de manera informal a amigos o familiares a menudo es difícil de "
                        "recuperar a tiempo.",
                    ),
                    _t(
                        "If you will spend the money in your home country, think about when "
                        "to convert it. Converting everything on one day ties you to that "
                        "day's exchange rate; converting in several parts over some months "
                        "spreads that risk.",
                        "Si va a gastar el dinero en su país, piense en cuándo cambiarlo. "
                        "Cambiarlo todo el mismo día le ata al tipo de cambio de ese día; "
                        "cambiarlo en varias partes a lo largo de unos meses reparte ese "
                        "riesgo.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("Reaching 8,000 USD in 18 months", "Llegar a 8000 USD en 18 meses"),
                "text": _t(
                    "María needs 8,000 USD and has saved 2,600 USD. She plans to return in 18 "
                    "months. She still needs 8,000 − 2,600 = 5,400 USD, so she must save "
                    "5,400 ÷ 18 = 300 USD a month.",
                    "María necesita 8000 USD y ya tiene ahorrados 2600 USD. Piensa regresar "
                    "dentro de 18 meses. Todavía le faltan 8000 − 2600 = 5400 USD, así que "
                    "debe ahorrar 5400 ÷ 18 = 300 USD al mes.",
                ),
                "calculations": (
                    _calc(
                        "savings_plan",
                        {"target": "8000", "saved": "2600", "months": "18"},
                        {"remaining": "5400", "monthly_saving": "300"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "You need 5,000 USD, have saved 1,400 USD and plan to return in 12 "
                        "months. How much must you save each month?",
                        "Necesita 5000 USD, tiene ahorrados 1400 USD y piensa regresar dentro "
                        "de 12 meses. ¿Cuánto debe ahorrar al mes?",
                    ),
                    0,
                    _choice(
                        _t("300 USD", "300 USD"),
                        _t(
                            "Right: (5,000 − 1,400) ÷ 12 = 3,600 ÷ 12 = 300 USD.",
                            "Correcto: (5000 − 1400) ÷ 12 = 3600 ÷ 12 = 300 USD.",
                        ),
                    ),
                    _choice(
                        _t("About 417 USD", "Unos 417 USD"),
                        _t(
                            "That divides the whole 5,000 USD by 12 and forgets the 1,400 USD "
                            "already saved.",
                            "Así se divide el total de 5000 USD entre 12 y se olvidan los "
                            "1400 USD ya ahorrados.",
                        ),
                    ),
                    _choice(
                        _t("About 117 USD", "Unos 117 USD"),
                        _t(
                            "That divides what you have already saved by 12; divide what you "
                            "still need, 3,600 USD.",
                            "Así se divide lo que ya tiene ahorrado entre 12; divida lo que "
                            "le falta, 3600 USD.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "Which is the safest place for return savings?",
                        "¿Cuál es el lugar más seguro para los ahorros del regreso?",
                    ),
                    0,
                    _choice(
                        _t(
                            "A regulated bank or savings account in your own name",
                            "Un banco o una cuenta de ahorro regulados, a su nombre",
                        ),
                        _t(
                            "Right: the money is protected and you can always see the balance.",
                            "Correcto: el dinero está protegido y usted siempre puede ver el "
                            "saldo.",
                        ),
                    ),
                    _choice(
                        _t("Cash kept at home", "Efectivo guardado en casa"),
                        _t(
                            "Cash can be lost or stolen, and it earns nothing.",
                            "El efectivo se puede perder o se lo pueden robar, y no genera nada.",
                        ),
                    ),
                    _choice(
                        _t(
                            "A loan to a friend who promises to repay with interest when you "
                            "return",
                            "Un préstamo a un amigo que promete devolverlo con intereses "
                            "cuando usted regrese",
                        ),
                        _t(
                            "Informal loans are often repaid late or not at all, just when "
                            "you need the money.",
                            "Los préstamos informales a menudo se devuelven tarde o nunca, "
                            "justo cuando usted necesita el dinero.",
                        ),
                    ),
                ),
            ),
        },
    ),
}


# --- (c) Loans and interest --------------------------------------------------------------

_LOANS_AND_INTEREST: Course = {
    "slug": "loans-and-interest",
    "title": _t("How loans and interest work", "Cómo funcionan los préstamos y los intereses"),
    "summary": _t(
        "How lenders quote interest, why a monthly rate costs more than it looks, how "
        "repayments are worked out and how much debt you can carry.",
        "Cómo expresan los prestamistas el interés, por qué una tasa mensual cuesta más de "
        "lo que parece, cómo se calculan las cuotas y cuánta deuda puede asumir.",
    ),
    "lessons": (
        {
            "slug": "how-interest-is-charged",
            "title": _t("How interest is charged", "Cómo se cobran los intereses"),
            "intro": _t(
                "Two loans with the same quoted rate can cost very different amounts. What "
                "matters is how often interest is charged and on which balance.",
                "Dos préstamos con la misma tasa anunciada pueden costar cantidades muy "
                "distintas. Lo que importa es cada cuánto se cobra el interés y sobre qué "
                "saldo.",
            ),
            "sections": (
                _section(
                    _t("Monthly and yearly rates", "Tasas mensuales y anuales"),
                    _t(
                        "Many small lenders quote a monthly rate. A rate of 2% a month is 24% "
                        "a year in simple terms, and more once interest is charged on "
                        "interest: 1.02 to the power of 12 is about 1.2682, an effective "
                        "annual rate of 26.82%.",
                        "Muchos prestamistas pequeños anuncian una tasa mensual. Una tasa del "
                        "2% mensual equivale al 24% anual en términos simples, y a más cuando "
                        "se cobran intereses sobre los intereses: 1.02 elevado a 12 da "
                        "aproximadamente 1.2682, una tasa efectiva anual del 26.82%.",
                    ),
                    _t(
                        "Compare loans using the annual rate that includes all fees and "
                        "compulsory charges. In many countries lenders must state it; it has "
                        "different names, such as APR in English-speaking countries, TAE in "
                        "Spain or CAT in Mexico.",
                        "Compare los préstamos con la tasa anual que incluye todas las "
                        "comisiones y cargos obligatorios. En muchos países los prestamistas "
                        "están obligados a informarla; recibe distintos nombres, como CAT "
                        "(costo anual total) en México, TAE en España o APR en los países de "
                        "habla inglesa.",
                    ),
                ),
                _section(
                    _t("Flat rate or declining balance", "Tasa plana o sobre saldo"),
                    _t(
                        "On a declining-balance loan, interest each month is charged only on "
                        "what you still owe, so it falls as you repay. On a flat-rate loan, "
                        "interest is charged on the original amount for the whole term, even "
                        "though you owe less every month. With the same quoted rate, a "
                        "flat-rate loan costs much more.",
                        "En un préstamo sobre saldo, el interés de cada mes se cobra solo "
                        "sobre lo que todavía debe, así que baja a medida que paga. En un "
                        "préstamo con tasa plana (flat), el interés se cobra sobre el monto "
                        "original durante todo el plazo, aunque cada mes deba menos. Con la "
                        "misma tasa anunciada, un préstamo con tasa plana cuesta mucho más.",
                    ),
                    _t(
                        "Ask the lender which method it uses, and ask for the full repayment "
                        "schedule in writing before you sign.",
                        "Pregunte al prestamista qué método usa y pida por escrito el "
                        "calendario completo de pagos antes de firmar.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("2% a month, two ways", "2% mensual, de dos maneras"),
                "text": _t(
                    "A loan of 2,000 USD for 12 months at 2% a month. On a declining balance, "
                    "the equal monthly payment is about 189.12 USD, about 2,269.44 USD in all, "
                    "of which about 269.44 USD is interest. At a flat 2% a month, interest "
                    "is 2,000 × 2% × 12 = 480.00 USD and the monthly payment (2,000 + 480) ÷ "
                    "12 = 206.67 USD: about 1.8 "
                    "times as much interest for the same quoted rate. Over a year, 2% a month "
                    "is 24% in simple terms and 26.82% once compounded.",
                    "Un préstamo de 2000 USD a 12 meses al 2% mensual. Sobre saldo, la cuota "
                    "mensual fija es de unos 189.12 USD, unos 2269.44 USD en total, de los "
                    "cuales unos 269.44 USD son intereses. Con una tasa plana del 2% "
                    "mensual, el interés es 2000 × 2% × 12 = 480.00 USD y la cuota mensual, "
                    "(2000 + 480) ÷ 12 = 206.67 USD: unas 1.8 "
                    "veces más intereses con la misma tasa anunciada. En un año, el 2% "
                    "mensual es el 24% en términos simples y el 26.82% con capitalización.",
                ),
                "calculations": (
                    _calc(
                        "amortizing_loan",
                        {"principal": "2000", "monthly_rate_percent": "2", "months": "12"},
                        {
                            "monthly_payment": "189.12",
                            "total_paid": "2269.44",
                            "total_interest": "269.44",
                        },
                    ),
                    _calc(
                        "flat_interest",
                        {"principal": "2000", "monthly_rate_percent": "2", "months": "12"},
                        {"total_interest": "480.00", "monthly_payment": "206.67"},
                    ),
                    _calc(
                        "effective_annual_rate",
                        {"monthly_rate_percent": "2"},
                        {"nominal_annual_percent": "24", "effective_annual_percent": "26.82"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "A lender quotes 3% a month. Which is closest to the yearly cost?",
                        "Un prestamista anuncia un 3% mensual. ¿Qué se acerca más al costo anual?",
                    ),
                    1,
                    _choice(
                        _t("3% a year", "3% anual"),
                        _t(
                            "The rate is per month: over 12 months it adds up to far more.",
                            "La tasa es mensual: en 12 meses suma mucho más.",
                        ),
                    ),
                    _choice(
                        _t(
                            "36% a year in simple terms, about 42.6% compounded",
                            "36% anual en términos simples, cerca del 42.6% con capitalización",
                        ),
                        _t(
                            "Right: 3 × 12 = 36%, and 1.03 to the power of 12 is about 1.426.",
                            "Correcto: 3 × 12 = 36%, y 1.03 elevado a 12 es aproximadamente 1.426.",
                        ),
                    ),
                    _choice(
                        _t("12% a year", "12% anual"),
                        _t(
                            "12 is the number of months; multiply the monthly rate by it: "
                            "at least 36% a year.",
                            "12 es el número de meses; multiplique la tasa mensual por él: "
                            "como mínimo, 36% anual.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "On which kind of loan does the interest you pay each month fall as "
                        "you repay?",
                        "¿En qué tipo de préstamo baja el interés que paga cada mes a medida "
                        "que devuelve el dinero?",
                    ),
                    0,
                    _choice(
                        _t("A declining-balance loan", "Un préstamo sobre saldo"),
                        _t(
                            "Right: interest is charged only on what you still owe.",
                            "Correcto: el interés se cobra solo sobre lo que todavía debe.",
                        ),
                    ),
                    _choice(
                        _t("A flat-rate loan", "Un préstamo con tasa plana"),
                        _t(
                            "No: a flat rate charges interest on the original amount every month.",
                            "No: la tasa plana cobra intereses sobre el monto original todos "
                            "los meses.",
                        ),
                    ),
                    _choice(
                        _t("Both work the same way", "Los dos funcionan igual"),
                        _t(
                            "They do not: with the same quoted rate, a flat-rate loan costs "
                            "much more.",
                            "No es así: con la misma tasa anunciada, el préstamo con tasa "
                            "plana cuesta mucho más.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "What should you ask for before signing a loan?",
                        "¿Qué debe pedir antes de firmar un préstamo?",
                    ),
                    0,
                    _choice(
                        _t(
                            "The annual rate including all fees, and the full repayment "
                            "schedule in writing",
                            "La tasa anual con todas las comisiones y el calendario completo "
                            "de pagos por escrito",
                        ),
                        _t(
                            "Right: with these you can compare offers and see the total cost.",
                            "Correcto: con esto puede comparar ofertas y ver el costo total.",
                        ),
                    ),
                    _choice(
                        _t("Only the monthly payment", "Solo la cuota mensual"),
                        _t(
                            "A low monthly payment can hide a long term or high fees.",
                            "Una cuota baja puede esconder un plazo largo o comisiones altas.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Nothing: loan contracts are all the same",
                            "Nada: todos los contratos de préstamo son iguales",
                        ),
                        _t(
                            "Contracts differ a lot in rate, fees and penalties; read and "
                            "compare them.",
                            "Los contratos varían mucho en tasas, comisiones y penalizaciones; "
                            "léalos y compárelos.",
                        ),
                    ),
                ),
            ),
        },
        {
            "slug": "repayments-and-affordability",
            "title": _t(
                "Repayments and how much you can afford", "Las cuotas y cuánto puede pagar"
            ),
            "intro": _t(
                "A loan is affordable when the repayments fit in your income with room to "
                "spare, even in a bad month.",
                "Un préstamo es asumible cuando las cuotas caben en sus ingresos con margen, "
                "incluso en un mal mes.",
            ),
            "sections": (
                _section(
                    _t("How an equal repayment is worked out", "Cómo se calcula una cuota fija"),
                    _t(
                        "Most declining-balance loans are repaid in equal monthly payments. "
                        "Early payments are mostly interest; later ones mostly repay the "
                        "amount borrowed. The lender works out the payment with a standard "
                        "formula, and you can check it with any loan calculator.",
                        "La mayoría de los préstamos sobre saldo se pagan en cuotas mensuales "
                        "iguales. Las primeras cuotas son sobre todo intereses; las últimas, "
                        "sobre todo devolución de lo prestado. El prestamista calcula la cuota "
                        "con una fórmula estándar, y usted puede comprobarla con cualquier "
                        "calculadora de préstamos.",
                    ),
                    _t(
                        "A longer term lowers the monthly payment but increases the total "
                        "interest you pay.",
                        "Un plazo más largo baja la cuota mensual, pero aumenta el total de "
                        "intereses que paga.",
                    ),
                ),
                _section(
                    _t("How much debt is too much", "Cuánta deuda es demasiada"),
                    _t(
                        "Add up all your monthly loan payments, including the new one, and "
                        "divide by your reliable monthly income. Many lenders and advisers "
                        "treat payments above about a third of income as a warning sign; if "
                        "your income is irregular, stay well below that.",
                        "Sume todas sus cuotas mensuales de préstamos, incluida la nueva, y "
                        "divida entre sus ingresos mensuales seguros. Muchos prestamistas y "
                        "asesores consideran una señal de alerta que las cuotas superen "
                        "alrededor de un tercio de los ingresos; si sus ingresos son "
                        "irregulares, quédese bastante por debajo.",
                    ),
                    _t(
                        "Before borrowing for a business, check that the business can make "
                        "the payment from its own sales. If the payment depends on "
                        "remittances or on a job you may lose, the household carries the risk.",
                        "Antes de pedir un préstamo para un negocio, compruebe que el negocio "
                        "puede pagar la cuota con sus propias ventas. Si la cuota depende de "
                        "remesas o de un empleo que podría perder, el riesgo recae en el "
                        "hogar.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("Can Luis afford the loan?", "¿Puede Luis pagar el préstamo?"),
                "text": _t(
                    "Luis borrows 2,000 USD for 12 months at 2% a month on a declining "
                    "balance. The monthly payment is about 189.12 USD; over the 12 months he "
                    "pays about 2,269.44 USD, of which about 269.44 USD is interest. He "
                    "already pays 120 USD a month on another loan and earns 900 USD a month. "
                    "His payments would total 120 + 189.12 = 309.12 USD, or 34.35% of his "
                    "income: more than a third, so he should borrow less, over a longer term, "
                    "or wait.",
                    "Luis pide 2000 USD a 12 meses al 2% mensual sobre saldo. La cuota mensual "
                    "es de unos 189.12 USD; en los 12 meses paga unos 2269.44 USD, de los "
                    "cuales unos 269.44 USD son intereses. Ya paga 120 USD al mes por otro "
                    "préstamo y gana 900 USD al mes. Sus cuotas sumarían 120 + 189.12 = "
                    "309.12 USD, el 34.35% de sus ingresos: más de un tercio, así que debería "
                    "pedir menos, a un plazo más largo, o esperar.",
                ),
                "calculations": (
                    _calc(
                        "amortizing_loan",
                        {"principal": "2000", "monthly_rate_percent": "2", "months": "12"},
                        {
                            "monthly_payment": "189.12",
                            "total_paid": "2269.44",
                            "total_interest": "269.44",
                        },
                    ),
                    _calc(
                        "debt_ratio",
                        {
                            "monthly_income": "900",
                            "existing_payments": "120",
                            "new_payment": "189.12",
                        },
                        {"total_payments": "309.12", "ratio_percent": "34.35"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "Your income is 1,000 USD a month and your loan payments would total "
                        "450 USD. What does that mean?",
                        "Sus ingresos son de 1000 USD al mes y sus cuotas de préstamos "
                        "sumarían 450 USD. ¿Qué significa?",
                    ),
                    0,
                    _choice(
                        _t(
                            "45% of your income goes to debt: too much for most households",
                            "El 45% de sus ingresos se va en deudas: demasiado para la mayoría "
                            "de los hogares",
                        ),
                        _t(
                            "Right: that is well above a third of income.",
                            "Correcto: está muy por encima de un tercio de los ingresos.",
                        ),
                    ),
                    _choice(
                        _t(
                            "It is fine as long as the lender agrees",
                            "Está bien si el prestamista lo aprueba",
                        ),
                        _t(
                            "A lender's approval does not mean you can afford it; you carry "
                            "the risk if income falls.",
                            "Que el prestamista lo apruebe no significa que usted pueda "
                            "pagarlo; el riesgo es suyo si bajan los ingresos.",
                        ),
                    ),
                    _choice(
                        _t("4.5% of your income goes to debt", "El 4.5% de sus ingresos"),
                        _t(
                            "450 ÷ 1,000 is 45%, not 4.5%.",
                            "450 ÷ 1000 es el 45%, no el 4.5%.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "What happens if you repay the same loan over a longer term?",
                        "¿Qué pasa si devuelve el mismo préstamo en un plazo más largo?",
                    ),
                    0,
                    _choice(
                        _t(
                            "A lower monthly payment, but more interest in total",
                            "Una cuota mensual más baja, pero más intereses en total",
                        ),
                        _t(
                            "Right: you owe the money for longer, so you pay interest for longer.",
                            "Correcto: debe el dinero durante más tiempo, así que paga "
                            "intereses durante más tiempo.",
                        ),
                    ),
                    _choice(
                        _t(
                            "A lower monthly payment and less interest",
                            "Una cuota más baja y menos intereses",
                        ),
                        _t(
                            "The payment falls, but total interest rises.",
                            "La cuota baja, pero el total de intereses sube.",
                        ),
                    ),
                    _choice(
                        _t("Nothing changes", "No cambia nada"),
                        _t(
                            "Both the monthly payment and the total interest change.",
                            "Cambian tanto la cuota mensual como el total de intereses.",
                        ),
                    ),
                ),
            ),
        },
    ),
}


# --- (d) Diaspora bonds ------------------------------------------------------------------

_DIASPORA_BONDS: Course = {
    "slug": "diaspora-bonds",
    "title": _t("What a diaspora bond is", "Qué es un bono de la diáspora"),
    "summary": _t(
        "How a bond works, why governments and public bodies sell bonds to their diaspora, "
        "and the risks to weigh before buying one.",
        "Cómo funciona un bono, por qué los gobiernos y las entidades públicas venden bonos "
        "a su diáspora y qué riesgos hay que sopesar antes de comprar uno.",
    ),
    "lessons": (
        {
            "slug": "how-a-diaspora-bond-works",
            "title": _t("How a diaspora bond works", "Cómo funciona un bono de la diáspora"),
            "intro": _t(
                "A bond is a loan you make to whoever issues it. A diaspora bond is one sold "
                "mainly to people from a country who live abroad, to finance that country's "
                "development.",
                "Un bono es un préstamo que usted hace a quien lo emite. Un bono de la "
                "diáspora se vende sobre todo a personas de un país que viven en el "
                "extranjero, para financiar el desarrollo de ese país.",
            ),
            "sections": (
                _section(
                    _t("A loan with a fixed schedule", "Un préstamo con un calendario fijo"),
                    _t(
                        "When you buy a bond you lend its face value to the issuer, usually a "
                        "government, a public bank or a public company. In return it promises "
                        "to pay interest, called the coupon, on fixed dates, and to repay the "
                        "face value on the maturity date.",
                        "Cuando compra un bono, presta su valor nominal al emisor, "
                        "normalmente un gobierno, un banco público o una empresa pública. A "
                        "cambio, el emisor se compromete a pagar intereses, llamados cupón, "
                        "en fechas fijas, y a devolver el valor nominal en la fecha de "
                        "vencimiento.",
                    ),
                    _t(
                        "What you get depends on the issuer keeping that promise. A bond is "
                        "not a bank deposit: it is normally not covered by deposit insurance, "
                        "and if you need the money before maturity you may have to sell the "
                        "bond to someone else at a lower price, or may find no buyer at all.",
                        "Lo que usted reciba depende de que el emisor cumpla esa promesa. Un "
                        "bono no es un depósito bancario: normalmente no está cubierto por el "
                        "seguro de depósitos, y si necesita el dinero antes del vencimiento "
                        "quizá tenga que vender el bono a otra persona a un precio menor, o "
                        "quizá no encuentre comprador.",
                    ),
                ),
                _section(
                    _t("Why sell bonds to the diaspora", "Por qué vender bonos a la diáspora"),
                    _t(
                        "Migrants often want to support their home country and know it well, "
                        "so they may accept a lower interest rate or keep the bond through "
                        "difficult times. Governments use this to raise money for "
                        "infrastructure and development at a lower cost. Israel has sold "
                        "bonds to its diaspora since 1951, India raised several billion US "
                        "dollars this way in 1998 and 2000, and Nigeria issued a 300 million "
                        "US dollar diaspora bond in 2017.",
                        "Los migrantes a menudo quieren apoyar a su país y lo conocen bien, "
                        "así que pueden aceptar un interés más bajo o conservar el bono en "
                        "tiempos difíciles. Los gobiernos lo aprovechan para obtener fondos "
                        "para infraestructura y desarrollo a menor costo. Israel vende bonos "
                        "a su diáspora desde 1951, la India obtuvo así varios miles de "
                        "millones de dólares en 1998 y 2000, y Nigeria emitió un bono de la "
                        "diáspora de 300 millones de dólares en 2017.",
                    ),
                    _t(
                        "A 2017 background paper for the Global Forum on Migration and "
                        "Development lists diaspora funds and diaspora bonds among the "
                        "options that can channel savings and remittances into productive "
                        "activities, social services and infrastructure, while stressing "
                        "that remittances are private money: migrants should be offered "
                        "choices, not told what to do with it.",
                        "Un documento de antecedentes de 2017 del Foro Mundial sobre Migración "
                        "y Desarrollo menciona los fondos y los bonos de la diáspora entre las "
                        "opciones que pueden canalizar ahorros y remesas hacia actividades "
                        "productivas, servicios sociales e infraestructura, y subraya que las "
                        "remesas son fondos privados: a los migrantes hay que ofrecerles "
                        "opciones, no decirles qué hacer con su dinero.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t(
                    "A 1,000 USD bond at 5% for 5 years", "Un bono de 1000 USD al 5% a 5 años"
                ),
                "text": _t(
                    "You buy a bond with a face value of 1,000 USD, a 5% annual coupon and a "
                    "maturity of 5 years. Each year you receive 1,000 × 5% = 50.00 USD. Over "
                    "the five years the coupons add up to 250.00 USD, and at maturity you get "
                    "the 1,000 USD back: 1,250.00 USD in total, if the issuer pays everything "
                    "on time.",
                    "Usted compra un bono con valor nominal de 1000 USD, cupón anual del 5% y "
                    "vencimiento a 5 años. Cada año recibe 1000 × 5% = 50.00 USD. En los cinco "
                    "años los cupones suman 250.00 USD, y al vencimiento le devuelven los 1000 "
                    "USD: 1250.00 USD en total, si el emisor paga todo a tiempo.",
                ),
                "calculations": (
                    _calc(
                        "bond_cash_flows",
                        {"face_value": "1000", "coupon_percent": "5", "years": "5"},
                        {
                            "annual_coupon": "50.00",
                            "total_coupons": "250.00",
                            "total_received": "1250.00",
                        },
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "What do you hold when you buy a bond?",
                        "¿Qué tiene usted cuando compra un bono?",
                    ),
                    0,
                    _choice(
                        _t(
                            "A loan to the issuer, repaid at maturity, with interest along the way",
                            "Un préstamo al emisor, que se devuelve al vencimiento, con "
                            "intereses mientras tanto",
                        ),
                        _t(
                            "Right: you are a lender, not an owner.",
                            "Correcto: usted es prestamista, no propietario.",
                        ),
                    ),
                    _choice(
                        _t("A share of the issuer's profits", "Una parte de las ganancias"),
                        _t(
                            "That describes shares. A bond pays the agreed coupon whatever "
                            "the issuer's profits, as long as it can pay.",
                            "Eso describe las acciones. Un bono paga el cupón acordado sean "
                            "cuales sean las ganancias del emisor, siempre que pueda pagar.",
                        ),
                    ),
                    _choice(
                        _t(
                            "A deposit insured by the government",
                            "Un depósito asegurado por el gobierno",
                        ),
                        _t(
                            "Bonds are normally not covered by deposit insurance.",
                            "Los bonos normalmente no están cubiertos por el seguro de depósitos.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "A 2,000 USD bond pays a 4% annual coupon for 3 years. How much do you "
                        "receive in total if everything is paid?",
                        "Un bono de 2000 USD paga un cupón anual del 4% durante 3 años. "
                        "¿Cuánto recibe en total si se paga todo?",
                    ),
                    0,
                    _choice(
                        _t("2,240 USD", "2240 USD"),
                        _t(
                            "Right: 3 coupons of 80 USD plus the 2,000 USD repaid.",
                            "Correcto: 3 cupones de 80 USD más los 2000 USD devueltos.",
                        ),
                    ),
                    _choice(
                        _t("2,080 USD", "2080 USD"),
                        _t(
                            "That counts only one year's coupon; there are three.",
                            "Así solo se cuenta el cupón de un año; son tres.",
                        ),
                    ),
                    _choice(
                        _t("240 USD", "240 USD"),
                        _t(
                            "That is the interest only; you also get the 2,000 USD back.",
                            "Eso son solo los intereses; también le devuelven los 2000 USD.",
                        ),
                    ),
                ),
            ),
        },
        {
            "slug": "risks-of-a-diaspora-bond",
            "title": _t("The risks of a diaspora bond", "Los riesgos de un bono de la diáspora"),
            "intro": _t(
                "A diaspora bond can be a good way to support your country, but it carries "
                "risks you should understand before putting savings into it.",
                "Un bono de la diáspora puede ser una buena manera de apoyar a su país, pero "
                "tiene riesgos que conviene entender antes de poner ahorros en él.",
            ),
            "sections": (
                _section(
                    _t(
                        "Default, inflation and selling early",
                        "Impago, inflación y venta anticipada",
                    ),
                    _t(
                        "Default risk: the issuer may pay late, pay less or not pay at all. "
                        "Check who issues the bond, what it will finance, the country's "
                        "credit rating, and whether earlier bonds were paid on time.",
                        "Riesgo de impago: el emisor puede pagar tarde, pagar menos o no "
                        "pagar. Averigüe quién emite el bono, qué va a financiar, qué "
                        "calificación crediticia tiene el país y si pagó a tiempo sus bonos "
                        "anteriores.",
                    ),
                    _t(
                        "Inflation risk: a fixed coupon buys less if prices rise fast. "
                        "Liquidity risk: you may not be able to get your money back before "
                        "maturity at a fair price, so buy only with money you will not need "
                        "until then.",
                        "Riesgo de inflación: un cupón fijo compra menos si los precios suben "
                        "rápido. Riesgo de liquidez: quizá no pueda recuperar su dinero antes "
                        "del vencimiento a un precio justo, así que compre solo con dinero que "
                        "no vaya a necesitar hasta entonces.",
                    ),
                ),
                _section(
                    _t("Currency risk", "Riesgo cambiario"),
                    _t(
                        "Some diaspora bonds are in US dollars or euros; others are in the "
                        "home country's currency. If the bond is in local currency and that "
                        "currency falls against the one you earn and spend in, what you get "
                        "back is worth less to you.",
                        "Algunos bonos de la diáspora están en dólares o en euros; otros, en "
                        "la moneda del país de origen. Si el bono está en moneda local y esa "
                        "moneda pierde valor frente a la moneda en la que usted gana y gasta, "
                        "lo que recibe vale menos para usted.",
                    ),
                    _t(
                        "If you plan to return and spend the money at home, the currency "
                        "risk matters less, because you will spend in that currency anyway; "
                        "inflation at home still matters.",
                        "Si piensa regresar y gastar el dinero en su país, el riesgo cambiario "
                        "importa menos, porque de todos modos gastará en esa moneda; la "
                        "inflación en su país sí sigue importando.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t(
                    "A peso bond when the peso falls", "Un bono en pesos cuando el peso cae"
                ),
                "text": _t(
                    "You buy a bond of 20,000 pesos when 1 USD = 18 pesos, so it costs you "
                    "20,000 ÷ 18 = 1,111.11 USD. At maturity you are repaid 20,000 pesos, but "
                    "now 1 USD = 22 pesos: in dollars that is 20,000 ÷ 22 = 909.09 USD, "
                    "18.18% less than you paid, before counting the coupons. If you spend the "
                    "money at home, you still have the 20,000 pesos you lent.",
                    "Usted compra un bono de 20\u00a0000 pesos cuando 1 USD = 18 pesos, así que "
                    "le cuesta 20\u00a0000 ÷ 18 = 1111.11 USD. Al vencimiento le devuelven "
                    "20\u00a0000 pesos, pero ahora 1 USD = 22 pesos: en dólares son 20\u00a0000 "
                    "÷ 22 = 909.09 USD, un 18.18% menos de lo que pagó, sin contar los "
                    "cupones. Si gasta el dinero en su país, sigue teniendo los 20\u00a0000 "
                    "pesos que prestó.",
                ),
                "calculations": (
                    _calc(
                        "currency_change",
                        {"amount_local": "20000", "rate_start": "18", "rate_end": "22"},
                        {
                            "value_start": "1111.11",
                            "value_end": "909.09",
                            "change_percent": "-18.18",
                        },
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "You will spend the money in US dollars, and the bond is in local "
                        "currency. Which risk do you add by buying it?",
                        "Usted gastará el dinero en dólares y el bono está en moneda local. "
                        "¿Qué riesgo añade al comprarlo?",
                    ),
                    0,
                    _choice(
                        _t("Currency risk", "El riesgo cambiario"),
                        _t(
                            "Right: if the local currency falls, you get fewer dollars back.",
                            "Correcto: si la moneda local cae, recupera menos dólares.",
                        ),
                    ),
                    _choice(
                        _t("None: bonds carry no risk", "Ninguno: los bonos no tienen riesgo"),
                        _t(
                            "Bonds carry default, inflation, liquidity and currency risks.",
                            "Los bonos tienen riesgos de impago, de inflación, de liquidez y "
                            "cambiario.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Only the risk of inflation in the United States",
                            "Solo el riesgo de inflación en Estados Unidos",
                        ),
                        _t(
                            "The bigger risk here is the exchange rate between the two currencies.",
                            "Aquí el riesgo mayor es el tipo de cambio entre las dos monedas.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "Why buy a bond only with money you will not need before maturity?",
                        "¿Por qué comprar un bono solo con dinero que no necesitará antes del "
                        "vencimiento?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Because you may not be able to sell it early at a fair price",
                            "Porque quizá no pueda venderlo antes a un precio justo",
                        ),
                        _t(
                            "Right: there may be few buyers, and they may pay less.",
                            "Correcto: puede haber pocos compradores, y pueden pagar menos.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Because bonds can never be sold",
                            "Porque los bonos nunca se pueden vender",
                        ),
                        _t(
                            "Many can be sold, but not always quickly or at a fair price.",
                            "Muchos se pueden vender, pero no siempre rápido ni a un precio justo.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Because the coupon stops if you move country",
                            "Porque el cupón se deja de pagar si usted cambia de país",
                        ),
                        _t(
                            "The coupon does not depend on where you live; the issue is "
                            "getting your money back early.",
                            "El cupón no depende de dónde viva usted; el problema es "
                            "recuperar el dinero antes de tiempo.",
                        ),
                    ),
                ),
            ),
        },
    ),
}


# --- (e) Risk and diversification -------------------------------------------------------

_RISK_AND_DIVERSIFICATION: Course = {
    "slug": "risk-and-diversification",
    "title": _t("Risk and diversification", "Riesgo y diversificación"),
    "summary": _t(
        "Why higher returns come with higher risk, why losses are hard to win back, and how "
        "spreading money across several investments protects you.",
        "Por qué los rendimientos altos vienen con riesgos altos, por qué cuesta tanto "
        "recuperar las pérdidas y cómo repartir el dinero entre varias inversiones le "
        "protege.",
    ),
    "lessons": (
        {
            "slug": "risk-and-return",
            "title": _t("Risk and return", "Riesgo y rendimiento"),
            "intro": _t(
                "Every investment can lose money. The higher the promised return, the higher "
                "the risk usually is.",
                "Toda inversión puede perder dinero. Cuanto más alto es el rendimiento "
                "prometido, más alto suele ser el riesgo.",
            ),
            "sections": (
                _section(
                    _t("What risk means", "Qué significa riesgo"),
                    _t(
                        "Risk is the chance that you get back less than you expected, or less "
                        "than you put in. A small business can fail, a buyer can stop paying, "
                        "a harvest can be lost, a currency can fall. Investments that may pay "
                        "more usually carry more of these risks; if someone offers a high "
                        "return with no risk, be suspicious.",
                        "El riesgo es la posibilidad de recuperar menos de lo que esperaba, o "
                        "menos de lo que puso. Un pequeño negocio puede fracasar, un "
                        "comprador puede dejar de pagar, una cosecha se puede perder, una "
                        "moneda puede caer. Las inversiones que pueden pagar más suelen tener "
                        "más de estos riesgos; si alguien le ofrece un rendimiento alto sin "
                        "riesgo, desconfíe.",
                    ),
                    _t(
                        "On Puente, each project receives a risk rating from A (lowest) to E "
                        "(highest) after review. The rating sums up the reviewers' judgement; "
                        "it is not a guarantee.",
                        "En Puente, cada proyecto recibe tras su revisión una calificación de "
                        "riesgo de la A (la más baja) a la E (la más alta). La calificación "
                        "resume el juicio de quienes lo revisaron; no es una garantía.",
                    ),
                ),
                _section(
                    _t("Losses are hard to win back", "Las pérdidas son difíciles de recuperar"),
                    _t(
                        "A loss needs a bigger gain to recover. If an investment falls by half, "
                        "it must then double, a gain of 100%, just to get back to where it "
                        "started.",
                        "Una pérdida necesita una ganancia mayor para recuperarse. Si una "
                        "inversión cae a la mitad, luego tiene que duplicarse, ganar un 100%, "
                        "solo para volver al punto de partida.",
                    ),
                    _t(
                        "Invest only money you can afford to lose or to leave untouched for "
                        "years, after you have an emergency reserve and have paid off "
                        "expensive debts.",
                        "Invierta solo dinero que pueda permitirse perder o dejar quieto "
                        "durante años, después de tener una reserva para emergencias y de "
                        "haber pagado las deudas caras.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("Winning back a loss", "Recuperar una pérdida"),
                "text": _t(
                    "If 1,000 USD falls 20% to 800 USD, you need a gain of 200 ÷ 800 = 25.00% "
                    "to get back to 1,000 USD. If it falls 50% to 500 USD, you need a gain of "
                    "500 ÷ 500 = 100.00%.",
                    "Si 1000 USD caen un 20%, hasta 800 USD, necesita ganar 200 ÷ 800 = 25.00% "
                    "para volver a 1000 USD. Si caen un 50%, hasta 500 USD, necesita ganar "
                    "500 ÷ 500 = 100.00%.",
                ),
                "calculations": (
                    _calc(
                        "recovery_gain",
                        {"loss_percent": "20"},
                        {"required_gain_percent": "25.00"},
                    ),
                    _calc(
                        "recovery_gain",
                        {"loss_percent": "50"},
                        {"required_gain_percent": "100.00"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "An investment has lost 25% of its value. What gain does it need to "
                        "get back to its starting value?",
                        "Una inversión ha perdido el 25% de su valor. ¿Cuánto tiene que ganar "
                        "para volver a su valor inicial?",
                    ),
                    1,
                    _choice(
                        _t("25%", "25%"),
                        _t(
                            "Not enough: the gain is on a smaller amount, 75% of the start.",
                            "No alcanza: la ganancia se aplica a un monto menor, el 75% del "
                            "inicial.",
                        ),
                    ),
                    _choice(
                        _t("About 33.3%", "Alrededor del 33.3%"),
                        _t(
                            "Right: 25 ÷ 75 = 0.333, a gain of about 33.3%.",
                            "Correcto: 25 ÷ 75 = 0.333, una ganancia de alrededor del 33.3%.",
                        ),
                    ),
                    _choice(
                        _t("50%", "50%"),
                        _t(
                            "Too much: 75 × 1.5 = 112.5, above the starting 100.",
                            "Demasiado: 75 × 1.5 = 112.5, por encima del 100 inicial.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "Someone offers you a guaranteed 30% a year with no risk. What should "
                        "you think?",
                        "Alguien le ofrece un 30% anual garantizado y sin riesgo. ¿Qué debe "
                        "pensar?",
                    ),
                    0,
                    _choice(
                        _t(
                            "It is probably too good to be true",
                            "Probablemente es demasiado bueno para ser cierto",
                        ),
                        _t(
                            "Right: high returns always come with risk; check the offer "
                            "carefully or walk away.",
                            "Correcto: los rendimientos altos siempre traen riesgo; revise "
                            "bien la oferta o aléjese.",
                        ),
                    ),
                    _choice(
                        _t("It is a good deal", "Es un buen negocio"),
                        _t(
                            "No investment can promise a high return without risk.",
                            "Ninguna inversión puede prometer un rendimiento alto sin riesgo.",
                        ),
                    ),
                    _choice(
                        _t(
                            "It is normal for small businesses",
                            "Es normal en los pequeños negocios",
                        ),
                        _t(
                            "Small businesses can earn well, but they can also fail; none "
                            "can guarantee it.",
                            "Los pequeños negocios pueden ganar bien, pero también pueden "
                            "fracasar; ninguno puede garantizarlo.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "What does a project's A to E risk rating on Puente tell you?",
                        "¿Qué le dice la calificación de riesgo de la A a la E de un proyecto "
                        "en Puente?",
                    ),
                    0,
                    _choice(
                        _t(
                            "The reviewers' judgement of its risk, not a guarantee",
                            "El juicio de los revisores sobre su riesgo, no una garantía",
                        ),
                        _t(
                            "Right: even an A project can lose money.",
                            "Correcto: incluso un proyecto A puede perder dinero.",
                        ),
                    ),
                    _choice(
                        _t(
                            "That A projects cannot lose money",
                            "Que los proyectos A no pueden perder dinero",
                        ),
                        _t(
                            "A means the lowest risk on the scale, not no risk.",
                            "La A significa el riesgo más bajo de la escala, no la ausencia "
                            "de riesgo.",
                        ),
                    ),
                    _choice(
                        _t(
                            "How much profit the project will make",
                            "Cuánta ganancia obtendrá el proyecto",
                        ),
                        _t(
                            "The rating is about the risk, not a forecast of profit.",
                            "La calificación trata del riesgo, no es una previsión de ganancias.",
                        ),
                    ),
                ),
            ),
        },
        {
            "slug": "spreading-your-money",
            "title": _t("Spreading your money", "Repartir su dinero"),
            "intro": _t(
                "Diversification means not putting all your savings into one investment, so "
                "that one failure does not wipe you out.",
                "Diversificar significa no poner todos sus ahorros en una sola inversión, para "
                "que un fracaso no le deje sin nada.",
            ),
            "sections": (
                _section(
                    _t("Several smaller investments", "Varias inversiones más pequeñas"),
                    _t(
                        "If you invest everything in one project and it fails, you lose "
                        "everything. If you split the same amount across several projects in "
                        "different sectors and places, one failure costs you only part of "
                        "your money, and the others can make up some of the loss.",
                        "Si invierte todo en un proyecto y fracasa, lo pierde todo. Si reparte "
                        "la misma cantidad entre varios proyectos de distintos sectores y "
                        "lugares, un fracaso le cuesta solo una parte de su dinero, y los "
                        "demás pueden compensar parte de la pérdida.",
                    ),
                    _t(
                        "Diversification works best when the investments do not depend on "
                        "the same thing. Projects that sell to the same buyer, or that all "
                        "depend on the same rains, can fail together.",
                        "Diversificar funciona mejor cuando las inversiones no dependen de lo "
                        "mismo. Los proyectos que venden al mismo comprador, o que dependen "
                        "todos de las mismas lluvias, pueden fracasar a la vez.",
                    ),
                ),
                _section(
                    _t("First things first", "Primero lo primero"),
                    _t(
                        "Before investing, keep an emergency reserve, pay off expensive debt "
                        "and make sure your family's basic needs are covered. Then spread what "
                        "is left, and put no more than a small part into any single project.",
                        "Antes de invertir, tenga una reserva para emergencias, pague las "
                        "deudas caras y asegúrese de que las necesidades básicas de su "
                        "familia están cubiertas. Después reparta lo que quede, y no ponga más "
                        "que una pequeña parte en un solo proyecto.",
                    ),
                    _t(
                        "Investing in your home community can do a lot of good. Putting all "
                        "your savings into a single business, even a relative's, is still a "
                        "concentrated risk.",
                        "Invertir en su comunidad de origen puede hacer mucho bien. Poner "
                        "todos sus ahorros en un solo negocio, aunque sea de un familiar, "
                        "sigue siendo un riesgo concentrado.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("One project or five", "Un proyecto o cinco"),
                "text": _t(
                    "You have 1,000 USD to invest: all of it in one project, or 200 USD in "
                    "each of 5 projects. Suppose 1 project fails completely and the others "
                    "return 8%. If the failed project is your only one, you lose all 1,000 "
                    "USD. With five, the four others are worth 4 × 200 × 1.08 = 864.00 USD: a "
                    "loss of 13.60%, not 100%.",
                    "Tiene 1000 USD para invertir: todo en un proyecto, o 200 USD en cada uno "
                    "de 5 proyectos. Suponga que 1 proyecto fracasa por completo y los demás "
                    "rinden un 8%. Si el proyecto fallido es el único que tiene, pierde los "
                    "1000 USD. Con cinco, los otros cuatro valen 4 × 200 × 1.08 = 864.00 USD: "
                    "una pérdida del 13.60%, no del 100%.",
                ),
                "calculations": (
                    _calc(
                        "diversification",
                        {"total": "1000", "projects": "5", "failed": "1", "return_percent": "8"},
                        {"per_project": "200", "value_after": "864.00", "change_percent": "-13.60"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "You split 2,000 USD equally across four projects. One fails "
                        "completely and the others return 10%. What is your money worth now?",
                        "Reparte 2000 USD a partes iguales entre cuatro proyectos. Uno fracasa "
                        "por completo y los demás rinden un 10%. ¿Cuánto vale ahora su dinero?",
                    ),
                    0,
                    _choice(
                        _t("1,650 USD", "1650 USD"),
                        _t(
                            "Right: 3 × 500 × 1.10 = 1,650 USD.",
                            "Correcto: 3 × 500 × 1.10 = 1650 USD.",
                        ),
                    ),
                    _choice(
                        _t("1,500 USD", "1500 USD"),
                        _t(
                            "That forgets the 10% return on the three projects that worked.",
                            "Así se olvida el 10% que rinden los tres proyectos que funcionaron.",
                        ),
                    ),
                    _choice(
                        _t("0 USD", "0 USD"),
                        _t(
                            "You would lose everything only if all the money were in the "
                            "project that failed.",
                            "Solo lo perdería todo si todo el dinero estuviera en el proyecto "
                            "que fracasó.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "Which of these is the most diversified?",
                        "¿Cuál de estas opciones está más diversificada?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Five projects in different sectors and regions",
                            "Cinco proyectos de distintos sectores y regiones",
                        ),
                        _t(
                            "Right: they are unlikely to fail for the same reason.",
                            "Correcto: es poco probable que fracasen por la misma causa.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Five shops in the same street selling the same goods",
                            "Cinco tiendas en la misma calle que venden lo mismo",
                        ),
                        _t(
                            "They share the same customers and risks, so they can fail together.",
                            "Comparten clientes y riesgos, así que pueden fracasar a la vez.",
                        ),
                    ),
                    _choice(
                        _t("One large project", "Un solo proyecto grande"),
                        _t(
                            "One project, however large, is a single risk.",
                            "Un proyecto, por grande que sea, es un solo riesgo.",
                        ),
                    ),
                ),
            ),
        },
    ),
}


# --- (f) Starting a small business after return -----------------------------------------

_BUSINESS_AFTER_RETURN: Course = {
    "slug": "starting-a-business-after-return",
    "title": _t(
        "Starting a small business after return",
        "Emprender un pequeño negocio al regresar",
    ),
    "summary": _t(
        "Making the skills you gained abroad count, checking the local market, working out "
        "your break-even point and finding credit at home.",
        "Hacer valer las competencias adquiridas en el extranjero, estudiar el mercado "
        "local, calcular su punto de equilibrio y conseguir crédito en su país.",
    ),
    "lessons": (
        {
            "slug": "skills-and-networks",
            "title": _t("Your skills and your networks", "Sus competencias y sus redes"),
            "intro": _t(
                "What you learned abroad is capital, just like your savings. Making it count "
                "at home takes some work.",
                "Lo que aprendió en el extranjero es un capital, igual que sus ahorros. "
                "Hacerlo valer en su país requiere algo de trabajo.",
            ),
            "sections": (
                _section(
                    _t("Getting your skills recognised", "Hacer reconocer sus competencias"),
                    _t(
                        "Skills gained abroad are not always recognised at home, and "
                        "certificates from another country may mean little to local "
                        "customers or employers. Ask the ministry of labour, the public "
                        "employment service or the national training institute whether they "
                        "assess skills or recognise prior learning, and get the certificates "
                        "you can, before and after you return.",
                        "Las competencias adquiridas en el extranjero no siempre se reconocen "
                        "en el país de origen, y los certificados de otro país pueden decir "
                        "poco a los clientes o empleadores locales. Pregunte al ministerio de "
                        "trabajo, al servicio público de empleo o al instituto nacional de "
                        "formación si evalúan competencias o reconocen el aprendizaje previo, "
                        "y obtenga los certificados que pueda, antes y después de regresar.",
                    ),
                    _t(
                        "Keep proof of your experience: contracts, references, training "
                        "certificates, photographs of your work. A 2017 background paper for "
                        "the Global Forum on Migration and Development names skills "
                        "assessment, recognition of prior learning and certification among "
                        "the things that most help returnees make a living.",
                        "Guarde pruebas de su experiencia: contratos, referencias, "
                        "certificados de formación, fotografías de su trabajo. Un documento "
                        "de antecedentes de 2017 del Foro Mundial sobre Migración y "
                        "Desarrollo cita la evaluación de competencias, el reconocimiento del "
                        "aprendizaje previo y la certificación entre lo que más ayuda a "
                        "quienes regresan a ganarse la vida.",
                    ),
                ),
                _section(
                    _t("Reconnecting, and facing prejudice", "Reconectar y enfrentar prejuicios"),
                    _t(
                        "Local networks matter: suppliers, customers, associations, local "
                        "authorities. Reconnect with them before you invest, and listen to "
                        "people who stayed: they know the market as it is now. Associations "
                        "and networks of returnees can also give advice and support.",
                        "Las redes locales importan: proveedores, clientes, asociaciones, "
                        "autoridades locales. Retome el contacto antes de invertir y escuche "
                        "a quienes se quedaron: conocen el mercado tal como es hoy. Las "
                        "asociaciones y redes de personas retornadas también pueden darle "
                        "consejo y apoyo.",
                    ),
                    _t(
                        "Returnees sometimes meet distrust or discrimination, or are seen as "
                        "rich, or as having failed; neighbours may resent support that "
                        "returnees receive. Hiring local people, buying from local suppliers "
                        "and being open about your plans help your business be seen as part "
                        "of the community.",
                        "A veces quienes regresan encuentran desconfianza o discriminación, o "
                        "se les ve como ricos o como fracasados; los vecinos pueden ver con "
                        "recelo el apoyo que reciben. Contratar a gente del lugar, comprar a "
                        "proveedores locales y hablar con franqueza de sus planes ayudan a que "
                        "su negocio se vea como parte de la comunidad.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("Is a certificate worth it?", "¿Vale la pena un certificado?"),
                "text": _t(
                    "Ana worked as a welder abroad. A locally recognised certificate costs "
                    "120 USD and lets her charge 3 USD more per working day. She recovers the "
                    "cost in 120 ÷ 3 = 40 working days, about two months.",
                    "Ana trabajó como soldadora en el extranjero. Un certificado reconocido en "
                    "su país cuesta 120 USD y le permite cobrar 3 USD más por día de trabajo. "
                    "Recupera el costo en 120 ÷ 3 = 40 días de trabajo, unos dos meses.",
                ),
                "calculations": (
                    _calc("payback", {"cost": "120", "gain_per_day": "3"}, {"days": "40"}),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "What helps most to get skills gained abroad recognised at home?",
                        "¿Qué ayuda más a que se reconozcan en su país las competencias "
                        "adquiridas en el extranjero?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Skills assessment or recognition of prior learning by a national body",
                            "La evaluación de competencias o el reconocimiento del aprendizaje "
                            "previo por un organismo nacional",
                        ),
                        _t(
                            "Right: a recognised certificate means something to local "
                            "customers and employers.",
                            "Correcto: un certificado reconocido significa algo para los "
                            "clientes y empleadores locales.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Telling customers you worked abroad",
                            "Decir a los clientes que trabajó en el extranjero",
                        ),
                        _t(
                            "It may help, but customers cannot check it; a recognised "
                            "certificate can be checked.",
                            "Puede ayudar, pero los clientes no pueden comprobarlo; un "
                            "certificado reconocido sí se puede comprobar.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Waiting until a customer asks for proof",
                            "Esperar a que un cliente pida pruebas",
                        ),
                        _t(
                            "By then you may have lost the job; get documents ready in advance.",
                            "Para entonces quizá ya haya perdido el trabajo; tenga los "
                            "documentos listos con antelación.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "How can a returnee's business avoid tension with the people who stayed?",
                        "¿Cómo puede el negocio de una persona retornada evitar tensiones con "
                        "quienes se quedaron?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Hire and buy locally, and be open about its plans",
                            "Contratar y comprar en el lugar, y hablar con franqueza de sus planes",
                        ),
                        _t(
                            "Right: when neighbours share the benefits, the business becomes "
                            "part of the community.",
                            "Correcto: cuando los vecinos comparten los beneficios, el negocio "
                            "pasa a formar parte de la comunidad.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Work only with other returnees",
                            "Trabajar solo con otras personas retornadas",
                        ),
                        _t(
                            "That can deepen the divide; include people who stayed.",
                            "Eso puede ahondar la división; incluya a quienes se quedaron.",
                        ),
                    ),
                    _choice(
                        _t("Ignore the issue", "Ignorar el asunto"),
                        _t(
                            "Tensions do not go away on their own, and they can hurt the business.",
                            "Las tensiones no desaparecen solas, y pueden perjudicar al negocio.",
                        ),
                    ),
                ),
            ),
        },
        {
            "slug": "market-and-break-even",
            "title": _t(
                "Your market and your break-even point", "Su mercado y su punto de equilibrio"
            ),
            "intro": _t(
                "Before investing, find out whether enough people will buy at a price that "
                "covers your costs.",
                "Antes de invertir, averigüe si bastantes personas comprarán a un precio que "
                "cubra sus costos.",
            ),
            "sections": (
                _section(
                    _t("Check the market at home", "Estudie el mercado en su país"),
                    _t(
                        "A business that works abroad will not necessarily work at home. "
                        "Incomes, prices and habits are different, and in many return "
                        "communities the local market is small and jobs are scarce for "
                        "everyone. Talk to potential customers, count the competitors and "
                        "note the prices they charge.",
                        "Un negocio que funciona en el extranjero no funcionará "
                        "necesariamente en su país. Los ingresos, los precios y las "
                        "costumbres son distintos, y en muchas comunidades de retorno el "
                        "mercado local es pequeño y el empleo escasea para todos. Hable con "
                        "posibles clientes, cuente a los competidores y anote los precios que "
                        "cobran.",
                    ),
                    _t(
                        "Start small where you can: test with a few customers, rent "
                        "equipment before buying it, and grow as sales prove the demand.",
                        "Empiece en pequeño cuando pueda: pruebe con pocos clientes, alquile "
                        "el equipo antes de comprarlo y crezca a medida que las ventas "
                        "demuestren la demanda.",
                    ),
                ),
                _section(
                    _t("The break-even point", "El punto de equilibrio"),
                    _t(
                        "Fixed costs are those you pay every month whatever you sell: rent, "
                        "wages, electricity, loan payments. Variable costs rise with each "
                        "unit sold: ingredients, materials, packaging. Each unit sold "
                        "contributes its price minus its variable cost towards the fixed "
                        "costs.",
                        "Los costos fijos son los que paga cada mes venda lo que venda: "
                        "alquiler, salarios, electricidad, cuotas de préstamos. Los costos "
                        "variables aumentan con cada unidad vendida: ingredientes, "
                        "materiales, envases. Cada unidad vendida aporta su precio menos su "
                        "costo variable para cubrir los costos fijos.",
                    ),
                    _t(
                        "The break-even point is the number of units you must sell each month "
                        "to cover the fixed costs. Below it you lose money; above it you make "
                        "a profit.",
                        "El punto de equilibrio es el número de unidades que debe vender cada "
                        "mes para cubrir los costos fijos. Por debajo pierde dinero; por "
                        "encima obtiene ganancias.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("A small bakery", "Una pequeña panadería"),
                "text": _t(
                    "Fixed costs are 600 USD a month. A loaf sells for 1.50 USD and its "
                    "ingredients and packaging cost 0.90 USD, so each loaf contributes 0.60 "
                    "USD. Break-even: 600 ÷ 0.60 = 1,000 loaves a month, or 40 a day over 25 "
                    "working days. If the neighbourhood will buy only about 25 loaves a day, "
                    "the plan does not work at this price and cost.",
                    "Los costos fijos son de 600 USD al mes. Un pan se vende a 1.50 USD y sus "
                    "ingredientes y envase cuestan 0.90 USD, así que cada pan aporta 0.60 USD. "
                    "Punto de equilibrio: 600 ÷ 0.60 = 1000 panes al mes, o 40 al día en 25 "
                    "días de trabajo. Si en el barrio solo se comprarán unos 25 panes al día, "
                    "el plan no funciona con este precio y este costo.",
                ),
                "calculations": (
                    _calc(
                        "break_even",
                        {
                            "fixed_costs": "600",
                            "price": "1.50",
                            "variable_cost": "0.90",
                            "working_days": "25",
                        },
                        {"unit_margin": "0.60", "break_even_units": "1000", "units_per_day": "40"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "Fixed costs are 900 USD a month; each unit sells for 5 USD and costs "
                        "2 USD to make. What is the break-even point?",
                        "Los costos fijos son de 900 USD al mes; cada unidad se vende a 5 USD "
                        "y cuesta 2 USD producirla. ¿Cuál es el punto de equilibrio?",
                    ),
                    0,
                    _choice(
                        _t("300 units a month", "300 unidades al mes"),
                        _t(
                            "Right: each unit contributes 5 − 2 = 3 USD, and 900 ÷ 3 = 300.",
                            "Correcto: cada unidad aporta 5 − 2 = 3 USD, y 900 ÷ 3 = 300.",
                        ),
                    ),
                    _choice(
                        _t("180 units a month", "180 unidades al mes"),
                        _t(
                            "900 ÷ 5 forgets the 2 USD each unit costs to make.",
                            "900 ÷ 5 olvida los 2 USD que cuesta producir cada unidad.",
                        ),
                    ),
                    _choice(
                        _t("450 units a month", "450 unidades al mes"),
                        _t(
                            "900 ÷ 2 divides by the cost; divide by what each unit "
                            "contributes, 3 USD.",
                            "900 ÷ 2 divide entre el costo; divida entre lo que aporta cada "
                            "unidad, 3 USD.",
                        ),
                    ),
                ),
                _question(
                    _t("Which of these is a fixed cost?", "¿Cuál de estos es un costo fijo?"),
                    0,
                    _choice(
                        _t("The monthly rent", "El alquiler mensual"),
                        _t(
                            "Right: you pay it whatever you sell.",
                            "Correcto: lo paga venda lo que venda.",
                        ),
                    ),
                    _choice(
                        _t("The flour for each batch", "La harina de cada hornada"),
                        _t(
                            "It rises with what you produce, so it is a variable cost.",
                            "Aumenta con lo que produce, así que es un costo variable.",
                        ),
                    ),
                    _choice(
                        _t("The packaging for each item", "El envase de cada producto"),
                        _t(
                            "It rises with each item sold, so it is a variable cost.",
                            "Aumenta con cada producto vendido, así que es un costo variable.",
                        ),
                    ),
                ),
            ),
        },
        {
            "slug": "finding-credit-at-home",
            "title": _t("Finding credit at home", "Conseguir crédito en su país"),
            "intro": _t(
                "Many returnees find it hard to borrow at home. Knowing why, and what the "
                "options are, helps you plan.",
                "A muchas personas retornadas les cuesta conseguir un préstamo en su país. "
                "Saber por qué, y qué opciones hay, le ayuda a planificar.",
            ),
            "sections": (
                _section(
                    _t("Why borrowing can be hard", "Por qué puede ser difícil"),
                    _t(
                        "Lenders at home may have no record of you: a credit history abroad "
                        "usually does not count, and you may have no local payslips, "
                        "collateral or guarantor. A business with no sales yet is a risk for "
                        "any lender.",
                        "Los prestamistas de su país quizá no tengan ningún registro de "
                        "usted: el historial crediticio del extranjero normalmente no cuenta, "
                        "y puede que no tenga recibos de sueldo locales, garantías ni aval. "
                        "Un negocio que todavía no vende es un riesgo para cualquier "
                        "prestamista.",
                    ),
                    _t(
                        "Start building a local record before you return if you can: open an "
                        "account at home, keep savings in it, and keep documents that show "
                        "your income and remittances.",
                        "Si puede, empiece a crear un historial local antes de regresar: abra "
                        "una cuenta en su país, ahorre en ella y guarde documentos que "
                        "muestren sus ingresos y sus remesas.",
                    ),
                ),
                _section(
                    _t("Options and cautions", "Opciones y precauciones"),
                    _t(
                        "Microfinance institutions, savings and credit cooperatives and public "
                        "programmes for returnees or small businesses often lend smaller "
                        "amounts with less collateral; ministries of labour sometimes offer "
                        "business advice and access to microcredit. Compare the annual cost "
                        "including fees, as explained in the course on loans.",
                        "Las instituciones de microfinanzas, las cooperativas de ahorro y "
                        "crédito y los programas públicos para personas retornadas o pequeñas "
                        "empresas suelen prestar montos menores con menos garantías; los "
                        "ministerios de trabajo a veces ofrecen asesoría empresarial y acceso "
                        "a microcréditos. Compare el costo anual con comisiones, como se "
                        "explica en el curso sobre préstamos.",
                    ),
                    _t(
                        "Put in your own savings as well: lenders trust a project more when "
                        "the owner shares the risk, and you borrow less. But do not spend "
                        "your living reserve on the business, and do not count on a loan "
                        "that has not been approved.",
                        "Ponga también sus propios ahorros: los prestamistas confían más en "
                        "un proyecto cuando el dueño comparte el riesgo, y usted pide menos "
                        "prestado. Pero no gaste en el negocio su reserva para vivir, y no "
                        "cuente con un préstamo que no esté aprobado.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("Savings plus a microloan", "Ahorros más un microcrédito"),
                "text": _t(
                    "Pedro's workshop needs 5,000 USD. He puts in 2,000 USD of savings (40%) "
                    "and borrows 3,000 USD from a microfinance institution at 3% a month on a "
                    "declining balance for 12 months. The payment is about 301.39 USD a month; "
                    "over the year he repays about 3,616.68 USD, of which about 616.68 USD is "
                    "interest. The payment is a fixed cost that the workshop's sales must "
                    "cover from the first month.",
                    "El taller de Pedro necesita 5000 USD. Él pone 2000 USD de sus ahorros "
                    "(el 40%) y pide 3000 USD a una institución de microfinanzas al 3% mensual "
                    "sobre saldo a 12 meses. La cuota es de unos 301.39 USD al mes; en el año "
                    "devuelve unos 3616.68 USD, de los cuales unos 616.68 USD son intereses. "
                    "La cuota es un costo fijo que las ventas del taller deben cubrir desde el "
                    "primer mes.",
                ),
                "calculations": (
                    _calc(
                        "funding_split",
                        {"total_cost": "5000", "own_funds": "2000"},
                        {"borrowed": "3000", "own_share_percent": "40"},
                    ),
                    _calc(
                        "amortizing_loan",
                        {"principal": "3000", "monthly_rate_percent": "3", "months": "12"},
                        {
                            "monthly_payment": "301.39",
                            "total_paid": "3616.68",
                            "total_interest": "616.68",
                        },
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "Why do lenders at home often hesitate to lend to a returnee?",
                        "¿Por qué los prestamistas de su país dudan a menudo en prestar a una "
                        "persona retornada?",
                    ),
                    0,
                    _choice(
                        _t(
                            "They have no local record of the returnee's income or repayments",
                            "No tienen registro local de sus ingresos ni de sus pagos",
                        ),
                        _t(
                            "Right: that is why building a local record early helps.",
                            "Correcto: por eso ayuda crear pronto un historial local.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Returnees are not allowed to borrow",
                            "Las personas retornadas no pueden pedir préstamos",
                        ),
                        _t(
                            "They are; the difficulty is the lack of a local record or collateral.",
                            "Sí pueden; la dificultad es la falta de historial local o de "
                            "garantías.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Loans are only for large companies",
                            "Los préstamos son solo para grandes empresas",
                        ),
                        _t(
                            "Microfinance institutions and cooperatives lend to small businesses.",
                            "Las instituciones de microfinanzas y las cooperativas prestan a "
                            "pequeños negocios.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "Why put some of your own savings into the business?",
                        "¿Por qué poner parte de sus ahorros en el negocio?",
                    ),
                    0,
                    _choice(
                        _t(
                            "You borrow less, and lenders see that you share the risk",
                            "Pide menos prestado, y los prestamistas ven que comparte el riesgo",
                        ),
                        _t(
                            "Right, as long as you keep your living reserve apart.",
                            "Correcto, siempre que mantenga aparte su reserva para vivir.",
                        ),
                    ),
                    _choice(
                        _t(
                            "So that you no longer need a living reserve",
                            "Para ya no necesitar una reserva para vivir",
                        ),
                        _t(
                            "No: keep the reserve separate; it protects your family if the "
                            "business starts slowly.",
                            "No: mantenga la reserva aparte; protege a su familia si el "
                            "negocio arranca despacio.",
                        ),
                    ),
                    _choice(
                        _t(
                            "It is never a good idea",
                            "Nunca es buena idea",
                        ),
                        _t(
                            "A reasonable own contribution usually makes a loan cheaper and "
                            "easier to get.",
                            "Un aporte propio razonable suele hacer el préstamo más barato y "
                            "más fácil de conseguir.",
                        ),
                    ),
                ),
            ),
        },
    ),
}


# --- (g) Avoiding fraud ------------------------------------------------------------------

_AVOIDING_FRAUD: Course = {
    "slug": "avoiding-fraud",
    "title": _t("Avoiding fraud", "Evitar fraudes"),
    "summary": _t(
        "How to recognise promises that are too good to be true, pyramid schemes and common "
        "scams aimed at migrants, and how to check before you pay.",
        "Cómo reconocer promesas demasiado buenas para ser ciertas, esquemas piramidales y "
        "estafas comunes dirigidas a migrantes, y cómo verificar antes de pagar.",
    ),
    "lessons": (
        {
            "slug": "too-good-to-be-true",
            "title": _t(
                "Promises that are too good to be true",
                "Promesas demasiado buenas para ser ciertas",
            ),
            "intro": _t(
                "Fraudsters target migrants because they have savings, want to help their "
                "families, and often invest from far away.",
                "Los estafadores buscan a los migrantes porque tienen ahorros, quieren ayudar "
                "a sus familias y a menudo invierten desde lejos.",
            ),
            "sections": (
                _section(
                    _t("Warning signs", "Señales de alerta"),
                    _t(
                        "Be careful when someone promises high, fixed or 'guaranteed' "
                        "returns; pressures you to decide quickly; asks you to recruit "
                        "others; cannot explain how the money is made; or asks you to pay in "
                        "cash, in cryptocurrency or into a personal account.",
                        "Tenga cuidado cuando alguien promete rendimientos altos, fijos o "
                        "«garantizados»; le presiona para decidir rápido; le pide que "
                        "reclute a otras personas; no sabe explicar cómo se gana el dinero; "
                        "o le pide pagar en efectivo, en criptomonedas o a una cuenta "
                        "personal.",
                    ),
                    _t(
                        "Genuine investments carry risk and say so in writing. An offer that "
                        "claims to have no risk is a warning sign in itself.",
                        "Las inversiones legítimas tienen riesgo y lo dicen por escrito. Una "
                        "oferta que dice no tener ningún riesgo ya es una señal de alerta.",
                    ),
                ),
                _section(
                    _t("Pyramid and Ponzi schemes", "Esquemas piramidales y Ponzi"),
                    _t(
                        "A pyramid or Ponzi scheme pays early members with the money of later "
                        "ones. It needs ever more new members and collapses when recruitment "
                        "slows. Most people who join lose their money, above all those who "
                        "joined last, often friends and relatives of whoever brought them in.",
                        "Un esquema piramidal o Ponzi paga a los primeros miembros con el "
                        "dinero de los que llegan después. Necesita cada vez más miembros "
                        "nuevos y se derrumba cuando el reclutamiento se frena. La mayoría de "
                        "quienes entran pierden su dinero, sobre todo los últimos en llegar, "
                        "a menudo amigos y familiares de quien los invitó.",
                    ),
                    _t(
                        "Early payouts prove nothing: schemes often pay the first returns on "
                        "time to win trust and attract larger sums.",
                        "Los primeros pagos no demuestran nada: estos esquemas suelen pagar a "
                        "tiempo los primeros rendimientos para ganarse la confianza y atraer "
                        "sumas mayores.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("10% a month", "10% al mes"),
                "text": _t(
                    "A scheme promises 10% a month. On 1,000 USD that would be 1,000 × 1.1 to "
                    "the power of 12 = 3,138.43 USD after 12 months, a gain of 213.84% in a "
                    "year. No ordinary business can earn that reliably; such 'returns' are "
                    "almost always paid with newer members' money.",
                    "Un esquema promete un 10% al mes. Con 1000 USD serían 1000 × 1.1 elevado "
                    "a 12 = 3138.43 USD al cabo de 12 meses, una ganancia del 213.84% en un "
                    "año. Ningún negocio normal puede ganar eso de forma constante; esos "
                    "«rendimientos» casi siempre se pagan con el dinero de los miembros más "
                    "nuevos.",
                ),
                "calculations": (
                    _calc(
                        "compound_growth",
                        {"principal": "1000", "monthly_rate_percent": "10", "months": "12"},
                        {"final_value": "3138.43", "gain_percent": "213.84"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "Which of these is a warning sign of fraud?",
                        "¿Cuál de estas es una señal de alerta de fraude?",
                    ),
                    0,
                    _choice(
                        _t(
                            "A guaranteed return of 5% a month",
                            "Un rendimiento garantizado del 5% al mes",
                        ),
                        _t(
                            "Right: that is about 80% a year, and nobody can guarantee it.",
                            "Correcto: es cerca de un 80% al año, y nadie puede garantizarlo.",
                        ),
                    ),
                    _choice(
                        _t(
                            "A written explanation of the risks",
                            "Una explicación por escrito de los riesgos",
                        ),
                        _t(
                            "That is a good sign: genuine offers explain their risks.",
                            "Es una buena señal: las ofertas legítimas explican sus riesgos.",
                        ),
                    ),
                    _choice(
                        _t(
                            "A firm listed on the financial regulator's website",
                            "Una empresa que figura en el sitio web del regulador financiero",
                        ),
                        _t(
                            "That is a good sign, if you checked the regulator's own website "
                            "and not a link the firm sent you.",
                            "Es una buena señal, si lo comprobó en el propio sitio del "
                            "regulador y no en un enlace que le envió la empresa.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "How does a pyramid scheme pay its early members?",
                        "¿Cómo paga un esquema piramidal a sus primeros miembros?",
                    ),
                    0,
                    _choice(
                        _t("With money from newer members", "Con el dinero de los nuevos"),
                        _t(
                            "Right: that is why it collapses when new members stop coming.",
                            "Correcto: por eso se derrumba cuando dejan de llegar miembros nuevos.",
                        ),
                    ),
                    _choice(
                        _t("With the profits of a real business", "Con ganancias reales"),
                        _t(
                            "There is little or no real business behind it.",
                            "Detrás hay poco o ningún negocio real.",
                        ),
                    ),
                    _choice(
                        _t("With a government guarantee", "Con una garantía del gobierno"),
                        _t(
                            "No government guarantees these schemes; many countries ban them.",
                            "Ningún gobierno garantiza estos esquemas; muchos países los prohíben.",
                        ),
                    ),
                ),
            ),
        },
        {
            "slug": "check-before-you-pay",
            "title": _t("Check before you pay", "Verifique antes de pagar"),
            "intro": _t(
                "A few checks, done every time, stop most scams.",
                "Unas pocas comprobaciones, hechas siempre, frenan la mayoría de las estafas.",
            ),
            "sections": (
                _section(
                    _t("Common scams aimed at migrants", "Estafas comunes contra migrantes"),
                    _t(
                        "Fake relatives or friends who ask for urgent money by message or "
                        "social media; land or houses sold by people who do not own them, or "
                        "sold to several buyers; fake job or visa offers that ask for fees; "
                        "'investment advisers' met only online; messages that claim to come "
                        "from your bank or remittance company and ask for codes or passwords.",
                        "Falsos familiares o amigos que piden dinero urgente por mensaje o "
                        "redes sociales; terrenos o casas vendidos por quien no es el dueño, "
                        "o vendidos a varios compradores; falsas ofertas de empleo o de visa "
                        "que piden pagos; «asesores de inversión» conocidos solo por "
                        "internet; mensajes que dicen venir de su banco o de su empresa de "
                        "remesas y piden códigos o contraseñas.",
                    ),
                    _t(
                        "Genuine banks and remittance companies never ask for your password "
                        "or for one-time codes.",
                        "Los bancos y las empresas de remesas de verdad nunca le piden su "
                        "contraseña ni códigos de un solo uso.",
                    ),
                ),
                _section(
                    _t("How to check", "Cómo verificar"),
                    _t(
                        "Call the person or company back on a number you already know, not "
                        "one given in the message. Check that an investment firm is "
                        "authorised, on the financial regulator's own website. For land or "
                        "property, check the title at the public registry and visit the site, "
                        "or send someone you trust who has no part in the sale.",
                        "Llame a la persona o a la empresa a un número que ya conozca, no al "
                        "que aparece en el mensaje. Compruebe que una empresa de inversión "
                        "está autorizada, en el propio sitio web del regulador financiero. "
                        "Para un terreno o una vivienda, revise el título en el registro "
                        "público y visite el lugar, o envíe a alguien de confianza que no "
                        "participe en la venta.",
                    ),
                    _t(
                        "Take your time: a genuine offer will still be there tomorrow. If you "
                        "have been cheated, stop paying, keep every message and receipt, and "
                        "report it to the police, to the regulator and to the company you "
                        "used to pay. The sooner you report it, the better the chance of "
                        "stopping a transfer.",
                        "Tómese su tiempo: una oferta legítima seguirá ahí mañana. Si le han "
                        "estafado, deje de pagar, guarde todos los mensajes y recibos y "
                        "denúncielo a la policía, al regulador y a la empresa que usó para "
                        "pagar. Cuanto antes lo denuncie, más posibilidades hay de detener "
                        "una transferencia.",
                    ),
                ),
            ),
            "worked_example": {
                "title": _t("Why pyramids must collapse", "Por qué las pirámides se derrumban"),
                "text": _t(
                    "In a scheme where each member must bring in 6 new ones, the first level "
                    "below you has 6 people and the second 36; level 10 would need 6 to the "
                    "power of 10 = 60,466,176 people, and the 10 levels together 72,559,410. "
                    "Recruitment runs out long before that, and those who joined last lose "
                    "their money.",
                    "En un esquema en el que cada miembro debe traer a 6 nuevos, el primer "
                    "nivel por debajo de usted tiene 6 personas y el segundo, 36; el nivel 10 "
                    "necesitaría 6 elevado a 10 = 60\u00a0466\u00a0176 personas, y los 10 "
                    "niveles juntos, 72\u00a0559\u00a0410. El reclutamiento se agota mucho "
                    "antes, y los últimos en entrar pierden su dinero.",
                ),
                "calculations": (
                    _calc(
                        "pyramid",
                        {"recruits_per_person": "6", "levels": "10"},
                        {"people_at_last_level": "60466176", "total_people": "72559410"},
                    ),
                ),
            },
            "quiz": (
                _question(
                    _t(
                        "A message from your 'cousin' on a new number asks for 500 USD "
                        "urgently. What should you do first?",
                        "Un mensaje de su «primo» desde un número nuevo le pide 500 USD con "
                        "urgencia. ¿Qué debe hacer primero?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Call your cousin on the number you already had",
                            "Llamar a su primo al número que ya tenía",
                        ),
                        _t(
                            "Right: a known number is the only reliable way to check.",
                            "Correcto: un número conocido es la única forma fiable de comprobarlo.",
                        ),
                    ),
                    _choice(
                        _t("Send the money quickly", "Enviar el dinero rápido"),
                        _t(
                            "Urgency is what scammers rely on; check first.",
                            "Los estafadores cuentan con la urgencia; compruebe primero.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Ask the sender to prove who they are by message",
                            "Pedir al remitente que demuestre quién es por mensaje",
                        ),
                        _t(
                            "A scammer can answer messages convincingly; call a number you know.",
                            "Un estafador puede responder mensajes de forma convincente; "
                            "llame a un número que conozca.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "Someone offers you land back home at a low price, but wants a "
                        "deposit before showing you any documents. What do you do?",
                        "Alguien le ofrece un terreno en su país a buen precio, pero quiere un "
                        "anticipo antes de enseñarle ningún documento. ¿Qué hace?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Check the title at the public registry and have someone you "
                            "trust visit before paying anything",
                            "Revisar el título en el registro público y pedir a alguien de "
                            "confianza que visite el terreno antes de pagar nada",
                        ),
                        _t(
                            "Right: pay nothing until ownership is confirmed.",
                            "Correcto: no pague nada hasta confirmar quién es el dueño.",
                        ),
                    ),
                    _choice(
                        _t(
                            "Pay the deposit to secure the price",
                            "Pagar el anticipo para asegurar el precio",
                        ),
                        _t(
                            "A deposit paid before checking the title is often lost for good.",
                            "Un anticipo pagado antes de revisar el título a menudo se pierde "
                            "para siempre.",
                        ),
                    ),
                    _choice(
                        _t("Ask for photos of the land", "Pedir fotos del terreno"),
                        _t(
                            "Photos show the land, not who owns it.",
                            "Las fotos muestran el terreno, no quién es el dueño.",
                        ),
                    ),
                ),
                _question(
                    _t(
                        "A message that seems to be from your bank asks for the code it has "
                        "just sent you by text. What is it?",
                        "Un mensaje que parece de su banco le pide el código que le acaba de "
                        "enviar por SMS. ¿Qué es?",
                    ),
                    0,
                    _choice(
                        _t(
                            "Almost certainly a scam: banks never ask for these codes",
                            "Casi seguro una estafa: los bancos nunca piden esos códigos",
                        ),
                        _t(
                            "Right: do not share the code; call your bank on its official number.",
                            "Correcto: no comparta el código; llame a su banco a su número "
                            "oficial.",
                        ),
                    ),
                    _choice(
                        _t("A normal security check", "Una comprobación de seguridad normal"),
                        _t(
                            "Banks send codes for you to type in, never to give to someone "
                            "who asks.",
                            "Los bancos envían códigos para que usted los escriba, nunca para "
                            "dárselos a quien los pida.",
                        ),
                    ),
                    _choice(
                        _t("A mistake by the bank", "Un error del banco"),
                        _t(
                            "Treat it as a scam and contact the bank on its official number.",
                            "Trátelo como una estafa y contacte a su banco en su número oficial.",
                        ),
                    ),
                ),
            ),
        },
    ),
}


COURSES: tuple[Course, ...] = (
    _SENDING_MONEY_HOME,
    _BUDGETING_A_RETURN,
    _LOANS_AND_INTEREST,
    _DIASPORA_BONDS,
    _RISK_AND_DIVERSIFICATION,
    _BUSINESS_AFTER_RETURN,
    _AVOIDING_FRAUD,
)

#: The courses by the key prefix of their texts in cms/content/translations.
TRANSLATABLE = {f"courses/{course['slug']}": course for course in COURSES}
translations.add_translations(TRANSLATABLE)
