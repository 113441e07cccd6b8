"""Deterministic demo data: N customers seen through five messy sources, plus ground truth.

``generate_demo(out_dir, customers=5000, seed=42)`` (or ``python -m pipelines.demo
--customers N --out DIR``) writes::

    out_dir/hub.yml                         configuration (DESIGN.md contract), paths relative
    out_dir/sources/crm/crm_clients.csv
    out_dir/sources/web/leads_<year>.csv
    out_dir/sources/loyalty/loyalty_cards.parquet
    out_dir/sources/billing/billing_accounts.tsv
    out_dir/sources/shop/orders.parquet
    out_dir/truth/entities.parquet          never read by the hub: for accuracy benchmarks
    out_dir/truth/persons.parquet           the clean truth per person
    out_dir/truth/organisations.parquet     the clean truth per organisation

The same seed and N give byte-identical files. Nothing reads the clock or the network; the
demo world's "today" is 2026-11-01 (``hub.as_of``).

Population (``population.py``, shares in :class:`PopulationShape`): ~85% Russian names with
real frequency skew (surname counts from the ``russiannames`` tables, first names ranked by
birth decade 1910-2000), Tatar/Bashkir, Azerbaijani (patronymic "Гусейн оглы"), Armenian,
Georgian, North Caucasus, Central Asian (оглы/кызы, угли/кизи, уулу), Korean-Russian (Ким,
Пак, Ли) and ~5% Western foreigners without patronymic. Birth dates 1940-2008. Households
of 1-5 people share surname (gendered), address and often a landline; children carry the
father's name as patronymic; twins share a birth date; some wives changed surname recently.
Addresses come from ~60 real cities with their region, postcode prefixes and phone codes.
Mobiles +79xx (operator code shares; some people have a second one or changed theirs),
landlines per household, e-mails derived from names on real domain shares (some people have
a second mailbox or changed it). Companies have valid 10-digit INNs, persons valid 12-digit
INNs and passports. Each source row shows the person as of the row's own date: older rows
carry the old phone, address, e-mail or maiden name.

Sources (error rates in :class:`Messiness`; ``Messiness().scaled(k)`` turns them up/down):

``crm`` - cp1251, ";", CRLF, header row, minimal quoting. ~60% of persons.
    Код клиента (zero-padded "000123"), ФИО (any order and case, initials "Иванов И.И.",
    ё/е, typos), Дата рождения (dd.mm.yyyy), Пол (М/Ж), Телефон (landline, office line with
    "доб.", second mobile, sometimes two numbers or the mobile), Моб. телефон (many formats,
    a word left in the cell), Email (typos, capitals), Адрес (free text, 9 styles), Согласие
    на рассылку (Да/Нет), Дата создания (dd.mm.yyyy), Дата изменения (dd.mm.yyyy HH:MM:SS),
    Менеджер and Комментарий (unmapped; comments such as "просит не звонить").
    ~3% persons entered twice (other id, own variations), a few ids exported twice (an older
    version first), a few broken lines (an unquoted ";" in the address: one field too many;
    or a line cut short), quoted comments with an embedded line break, a few test records.
``web`` - UTF-8, ",", LF, one file per year. ~35% of persons (fewer over 60).
    lead_id, created_at (ISO 8601 "2024-03-15T14:22:05+03:00"), name (typed by the person:
    first name only, any order, Latin in several transliteration schemes, diminutives Саша /
    Sasha, lower case, typos, wrong keyboard layout), phone (all formats, rare extension),
    email (domain typos gmail.con / mail.ri / yandex.ry, capitals), city (official,
    colloquial "Питер", "Екб", Latin, lower case), consent (personal-data checkbox "true"),
    subscribe ("true"/"false"), utm_source, utm_medium, utm_campaign, page, message
    (unmapped). ~8% repeated leads; test leads ("тест", phone 1111111), spam (URLs in the
    name), keyboard junk; leads with only a first name and a phone.
``loyalty`` - Parquet, every column a string. ~40% of persons, 2% with a second card.
    card_no ("0000012345"), last_name, first_name, middle_name (often empty), sex (M/F),
    birth_date (yyyymmdd, a few "19000101" placeholders), phone ("79161234567" mostly),
    email, postcode, city, street, house, flat, consent_pd, subscribed, do_not_contact
    ("1"/"0"), registered and updated (yyyymmdd), card_level, store_id, bonus_balance
    (unmapped). Usually updated more recently than the CRM, so it tends to hold the current
    phone and address where the CRM still has the old ones.
``billing`` - UTF-8 with BOM, TAB, CRLF. ~20% of persons plus company contacts.
    account, type (ФЛ individual / ЮЛ company / ИП sole trader), company (ООО "Вектор",
    ООО «Вектор», full legal form, upper case...), inn (10 digits for companies, a few with a
    broken checksum; 12 digits for individuals and sole traders), kpp, contact_name (full
    name, upper case, initials for company contacts), passport ("4510 123456" and variants),
    address (postcode, region, city, street, house, flat/office), phone (household or office
    landline, extensions), email (corporate and shared info@ boxes for companies), created
    (Excel serial "44927"), updated (Excel serial with time "45598.4375"), tariff, balance.
``shop`` - Parquet, kind orders. order_id, customer_id (CRM "Код клиента"; a few unknown
    ids, a few guest orders without one), order_date (timestamp), amount (float, RUB),
    currency, channel, status, promo_code. ~3 orders per CRM client on average: each client
    buys at an own (heavy-tailed) yearly rate while active, many stop (lost customers);
    seasonal (December, Black Friday, 8 March, 23 February), growing over the years.

Truth (``truth/entities.parquet``): one row per customer-source data row, in file order:
``source``, ``source_id``, ``entity_id`` (person, null for test/spam/junk rows),
``household_id``, ``organisation_id`` (billing company and sole-trader rows), ``note``
(comma-separated tags, most important first: test, spam, junk, broken_line, duplicate_id,
duplicate, multiline, partial, namesake, twin, surname_change, stale_phone, shared_phone,
shared_email, moved, invalid_inn), ``file`` (relative to out_dir) and ``record_no`` (1-based
CSV record / Parquet row within the file).
"""

from pipelines.demo.generate import DemoResult, generate_demo
from pipelines.demo.messiness import Messiness
from pipelines.demo.population import PopulationShape

__all__ = ["DemoResult", "Messiness", "PopulationShape", "generate_demo"]
