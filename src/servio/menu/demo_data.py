"""The Demo Bistro menu: a North-Indian-plus-Gujarati bistro with 44 dishes and drinks, two
combos, three modifier groups, two stations (kitchen, bar), Hindi and Gujarati names.

Prices are paise. Food and soft drinks are restaurant service (SAC 996331, GST 5 %). Beer
is outside GST (alcohol for human consumption is taxed by the states), so it carries GST 0
and its HSN 2203; the billing context applies the state levy.

`seed_demo_menu` is idempotent: an outlet that already has menu items is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from servio.kit.db import UnitOfWork
from servio.menu.repository import (
    CategoryRepository,
    GroupRepository,
    ItemRepository,
    ModifierRepository,
    bump_menu_version,
    lock_outlet,
)
from servio.models import MenuCategory, MenuItem, Modifier, ModifierGroup


@dataclass(frozen=True)
class DemoItem:
    key: str
    name: str
    price: int
    dietary: tuple[str, ...]
    allergens: tuple[str, ...] = ()
    description: str = ""
    hi: str = ""
    gu: str = ""
    station: str = "kitchen"
    gst_rate: str = "5"
    hsn: str = "996331"
    groups: tuple[str, ...] = ()  # modifier group keys, in order


@dataclass(frozen=True)
class DemoCategory:
    name: str
    hi: str
    gu: str
    items: tuple[DemoItem, ...]


@dataclass(frozen=True)
class DemoGroup:
    key: str
    name: str
    hi: str
    gu: str
    min_select: int
    max_select: int
    required: bool
    modifiers: tuple[tuple[str, int, str, str], ...]  # name, delta, hi, gu


@dataclass(frozen=True)
class DemoCombo:
    name: str
    price: int
    components: tuple[tuple[str, int], ...]  # item key, qty
    description: str
    hi: str
    gu: str
    dietary: tuple[str, ...]
    allergens: tuple[str, ...]
    groups: tuple[str, ...] = ()


SPICE, ADD_ONS, BREAD = "spice", "add_ons", "bread"

GROUPS: tuple[DemoGroup, ...] = (
    DemoGroup(
        SPICE,
        "Spice level",
        "मसाले का स्तर",
        "તીખાશ",
        1,
        1,
        True,
        (
            ("Mild", 0, "हल्का", "હળવું"),
            ("Medium", 0, "मध्यम", "મધ્યમ"),
            ("Hot", 0, "तीखा", "તીખું"),
            ("Extra hot", 0, "बहुत तीखा", "વધુ તીખું"),
        ),
    ),
    DemoGroup(
        ADD_ONS,
        "Add-ons",
        "अतिरिक्त",
        "વધારાનું",
        0,
        3,
        False,
        (
            ("Extra paneer", 6000, "अतिरिक्त पनीर", "વધારાનું પનીર"),
            ("Extra butter", 2000, "अतिरिक्त मक्खन", "વધારાનું માખણ"),
            ("Extra gravy", 4000, "अतिरिक्त ग्रेवी", "વધારાની ગ્રેવી"),
            ("Cheese", 3000, "चीज़", "ચીઝ"),
        ),
    ),
    DemoGroup(
        BREAD,
        "Bread choice",
        "रोटी का चुनाव",
        "રોટલીની પસંદગી",
        1,
        1,
        True,
        (
            ("Tandoori roti", 0, "तंदूरी रोटी", "તંદૂરી રોટી"),
            ("Butter naan", 2000, "बटर नान", "બટર નાન"),
            ("Lachha paratha", 2000, "लच्छा पराठा", "લચ્છા પરાઠા"),
        ),
    ),
)

_MAIN = (SPICE, ADD_ONS)

# fmt: off
CATEGORIES: tuple[DemoCategory, ...] = (
    DemoCategory(
        "Starters",
        "स्टार्टर्स",
        "સ્ટાર્ટર્સ",
        (
            DemoItem("samosa", "Samosa (2 pcs)", 9000, ("veg", "vegan"), ("gluten",),
                     "Crisp pastry, spiced potato and peas, tamarind chutney",
                     "समोसा", "સમોસા"),
            DemoItem("paneer_pakora", "Paneer Pakora", 16000, ("veg",), ("dairy",),
                     "Cottage cheese fritters in gram-flour batter", "पनीर पकोड़ा", "પનીર પકોડા"),
            DemoItem("hara_bhara", "Hara Bhara Kebab", 18000, ("veg", "vegan"), ("gluten",),
                     "Spinach, peas and potato patties", "हरा भरा कबाब", "હરાભરા કબાબ"),
            DemoItem("chilli_chicken", "Chilli Chicken", 26000, ("non_veg", "spicy"),
                     ("soy", "gluten", "egg"), "Indo-Chinese, wok-tossed with peppers",
                     "चिली चिकन", "ચિલી ચિકન", groups=(SPICE,)),
            DemoItem("dahi_puri", "Dahi Puri", 14000, ("veg",), ("dairy", "gluten"),
                     "Crisp puris, potato, sweet curd, chutneys", "दही पूरी", "દહીં પુરી"),
        ),
    ),
    DemoCategory(
        "Tandoor",
        "तंदूर",
        "તંદૂર",
        (
            DemoItem("paneer_tikka", "Paneer Tikka", 28000, ("veg", "gluten_free"),
                     ("dairy", "mustard"), "Chargrilled cottage cheese, peppers, onion",
                     "पनीर टिक्का", "પનીર ટિક્કા", groups=_MAIN),
            DemoItem("tandoori_chicken", "Tandoori Chicken (half)", 34000,
                     ("non_veg", "gluten_free"), ("dairy", "mustard"),
                     "Yoghurt and Kashmiri chilli marinade", "तंदूरी चिकन", "તંદૂરી ચિકન",
                     groups=(SPICE,)),
            DemoItem("malai_tikka", "Chicken Malai Tikka", 32000, ("non_veg",),
                     ("dairy", "nuts"), "Cream, cashew and cardamom", "चिकन मलाई टिक्का",
                     "ચિકન મલાઈ ટિક્કા"),
            DemoItem("fish_tikka", "Fish Tikka", 38000, ("non_veg",),
                     ("fish", "dairy", "mustard"), "Basa in ajwain marinade", "फिश टिक्का",
                     "ફિશ ટિક્કા"),
            DemoItem("tandoori_mushroom", "Tandoori Mushroom", 24000, ("veg",), ("dairy",),
                     "Stuffed mushrooms from the clay oven", "तंदूरी मशरूम", "તંદૂરી મશરૂમ"),
        ),
    ),
    DemoCategory(
        "Veg Mains",
        "शाकाहारी मुख्य व्यंजन",
        "શાકાહારી મુખ્ય વાનગી",
        (
            DemoItem("dal_makhani", "Dal Makhani", 26000, ("veg", "gluten_free"), ("dairy",),
                     "Black lentils slow-cooked overnight with butter", "दाल मखनी",
                     "દાલ મખની", groups=_MAIN),
            DemoItem("paneer_butter_masala", "Paneer Butter Masala", 30000, ("veg",),
                     ("dairy", "nuts"), "Tomato, cashew and butter gravy",
                     "पनीर बटर मसाला", "પનીર બટર મસાલા", groups=_MAIN),
            DemoItem("chana_masala", "Chana Masala", 22000, ("veg", "vegan", "gluten_free"),
                     (), "Chickpeas in onion-tomato masala", "चना मसाला", "ચણા મસાલા",
                     groups=(SPICE,)),
            DemoItem("palak_paneer", "Palak Paneer", 28000, ("veg", "gluten_free"),
                     ("dairy",), "Cottage cheese in spinach purée", "पालक पनीर", "પાલક પનીર",
                     groups=_MAIN),
            DemoItem("jain_mixed_veg", "Jain Mixed Veg", 24000, ("veg", "jain"), ("dairy",),
                     "No onion, garlic or root vegetables", "जैन मिक्स वेज", "જૈન મિક્સ વેજ",
                     groups=(SPICE,)),
            DemoItem("aloo_gobi", "Aloo Gobi", 20000, ("veg", "vegan", "gluten_free"), (),
                     "Potato and cauliflower, dry", "आलू गोभी", "આલુ ગોબી", groups=(SPICE,)),
            DemoItem("undhiyu", "Undhiyu", 26000, ("veg", "vegan"), ("sesame", "peanuts"),
                     "Gujarati winter vegetables with methi muthiya", "उंधियू", "ઊંધિયું"),
        ),
    ),
    DemoCategory(
        "Non-Veg Mains",
        "मांसाहारी मुख्य व्यंजन",
        "માંસાહારી મુખ્ય વાનગી",
        (
            DemoItem("butter_chicken", "Butter Chicken", 34000, ("non_veg",),
                     ("dairy", "nuts"), "Tandoori chicken in makhani gravy", "बटर चिकन",
                     "બટર ચિકન", groups=(SPICE,)),
            DemoItem("rogan_josh", "Mutton Rogan Josh", 42000, ("non_veg", "gluten_free"),
                     ("dairy",), "Kashmiri lamb curry", "रोगन जोश", "રોગન જોશ",
                     groups=(SPICE,)),
            DemoItem("chettinad", "Chicken Chettinad", 34000, ("non_veg", "spicy"), (),
                     "Black pepper and coconut", "चिकन चेट्टीनाड", "ચિકન ચેટ્ટીનાડ",
                     groups=(SPICE,)),
            DemoItem("goan_fish_curry", "Goan Fish Curry", 40000, ("non_veg",), ("fish",),
                     "Kokum and coconut", "गोअन फिश करी", "ગોઅન ફિશ કરી", groups=(SPICE,)),
            DemoItem("egg_curry", "Egg Curry", 22000, ("egg",), ("egg",),
                     "Boiled eggs in onion-tomato gravy", "अंडा करी", "ઈંડા કરી",
                     groups=(SPICE,)),
        ),
    ),
    DemoCategory(
        "Breads",
        "रोटियाँ",
        "રોટલી",
        (
            DemoItem("tandoori_roti", "Tandoori Roti", 4000, ("veg", "vegan"), ("gluten",),
                     hi="तंदूरी रोटी", gu="તંદૂરી રોટી"),
            DemoItem("butter_naan", "Butter Naan", 6000, ("veg",), ("gluten", "dairy"),
                     hi="बटर नान", gu="બટર નાન"),
            DemoItem("garlic_naan", "Garlic Naan", 7000, ("veg",), ("gluten", "dairy"),
                     hi="गार्लिक नान", gu="ગાર્લિક નાન"),
            DemoItem("lachha_paratha", "Lachha Paratha", 7000, ("veg",), ("gluten", "dairy"),
                     hi="लच्छा पराठा", gu="લચ્છા પરાઠા"),
            DemoItem("missi_roti", "Missi Roti", 5000, ("veg", "vegan"), ("gluten",),
                     hi="मिस्सी रोटी", gu="મિસ્સી રોટી"),
        ),
    ),
    DemoCategory(
        "Rice & Biryani",
        "चावल और बिरयानी",
        "ભાત અને બિરયાની",
        (
            DemoItem("jeera_rice", "Jeera Rice", 16000, ("veg", "vegan", "gluten_free"), (),
                     "Basmati with cumin", "जीरा राइस", "જીરા રાઈસ"),
            DemoItem("veg_biryani", "Veg Dum Biryani", 28000, ("veg",), ("dairy", "nuts"),
                     "Sealed and slow-cooked with saffron", "वेज दम बिरयानी", "વેજ દમ બિરયાની",
                     groups=(SPICE,)),
            DemoItem("chicken_biryani", "Chicken Dum Biryani", 36000, ("non_veg",),
                     ("dairy", "nuts"), "Hyderabadi style", "चिकन दम बिरयानी",
                     "ચિકન દમ બિરયાની", groups=(SPICE,)),
            DemoItem("mutton_biryani", "Mutton Biryani", 44000, ("non_veg",),
                     ("dairy", "nuts"), "Lucknowi style", "मटन बिरयानी", "મટન બિરયાની",
                     groups=(SPICE,)),
            DemoItem("boondi_raita", "Boondi Raita", 9000, ("veg", "gluten_free"), ("dairy",),
                     hi="बूंदी रायता", gu="બુંદી રાયતું"),
        ),
    ),
    DemoCategory(
        "Desserts",
        "मिठाइयाँ",
        "મીઠાઈ",
        (
            DemoItem("gulab_jamun", "Gulab Jamun", 12000, ("veg",), ("dairy", "gluten"),
                     "Two, warm, in rose syrup", "गुलाब जामुन", "ગુલાબ જાંબુ"),
            DemoItem("rasmalai", "Rasmalai", 15000, ("veg", "gluten_free"), ("dairy", "nuts"),
                     hi="रसमलाई", gu="રસમલાઈ"),
            DemoItem("kulfi", "Malai Kulfi", 14000, ("veg", "gluten_free"), ("dairy", "nuts"),
                     hi="मलाई कुल्फी", gu="મલાઈ કુલ્ફી"),
            DemoItem("gajar_halwa", "Gajar Halwa", 14000, ("veg", "gluten_free"),
                     ("dairy", "nuts"), "Carrot, milk and ghee", "गाजर का हलवा", "ગાજરનો હલવો"),
        ),
    ),
    DemoCategory(
        "Beverages",
        "पेय",
        "પીણાં",
        (
            DemoItem("masala_chai", "Masala Chai", 6000, ("veg",), ("dairy",),
                     hi="मसाला चाय", gu="મસાલા ચા", station="bar"),
            DemoItem("sweet_lassi", "Sweet Lassi", 11000, ("veg",), ("dairy",),
                     hi="मीठी लस्सी", gu="મીઠી લસ્સી", station="bar"),
            DemoItem("mango_lassi", "Mango Lassi", 13000, ("veg",), ("dairy",),
                     hi="मैंगो लस्सी", gu="મેંગો લસ્સી", station="bar"),
            DemoItem("lime_soda", "Fresh Lime Soda", 9000, ("veg", "vegan"), (),
                     "Sweet, salted or mixed", "फ्रेश लाइम सोडा", "ફ્રેશ લાઈમ સોડા",
                     station="bar"),
            DemoItem("virgin_mojito", "Virgin Mojito", 16000, ("veg", "vegan"), (),
                     "Mint, lime, soda", "वर्जिन मोहितो", "વર્જિન મોહિતો", station="bar"),
            DemoItem("jaljeera", "Jaljeera", 8000, ("veg", "vegan"), (),
                     hi="जलजीरा", gu="જલજીરા", station="bar"),
            DemoItem("kingfisher", "Kingfisher Premium (650 ml)", 32000,
                     ("veg", "vegan", "contains_alcohol"), ("gluten",), "Chilled lager",
                     station="bar", gst_rate="0", hsn="2203"),
            DemoItem("bira_white", "Bira 91 White (330 ml)", 28000,
                     ("veg", "vegan", "contains_alcohol"), ("gluten",), "Wheat beer",
                     station="bar", gst_rate="0", hsn="2203"),
        ),
    ),
)
# fmt: on

COMBOS: tuple[DemoCombo, ...] = (
    DemoCombo(
        "Veg Thali",
        42000,
        (
            ("dal_makhani", 1),
            ("paneer_butter_masala", 1),
            ("jeera_rice", 1),
            ("boondi_raita", 1),
            ("gulab_jamun", 1),
        ),
        "Dal, paneer, rice, raita, a bread of your choice and gulab jamun",
        "वेज थाली",
        "વેજ થાળી",
        ("veg",),
        ("dairy", "gluten", "nuts"),
        groups=(BREAD, SPICE),
    ),
    DemoCombo(
        "Biryani + Raita + Drink",
        45000,
        (("chicken_biryani", 1), ("boondi_raita", 1), ("lime_soda", 1)),
        "Chicken dum biryani, boondi raita and a fresh lime soda",
        "बिरयानी + रायता + ड्रिंक",
        "બિરયાની + રાયતું + ડ્રિંક",
        ("non_veg",),
        ("dairy", "nuts"),
        groups=(SPICE,),
    ),
)


def demo_item_count() -> int:
    return sum(len(c.items) for c in CATEGORIES) + len(COMBOS)


def _labels(hi: str, gu: str) -> dict[str, str]:
    return {lang: text for lang, text in (("hi", hi), ("gu", gu)) if text}


async def seed_demo_menu(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> None:
    """Write the demo menu into `outlet_id` unless it already has menu items (idempotent;
    concurrent calls are serialised by locking the outlet row). Bumps the menu version once.
    Licence limits are not checked: this is the provider's own seed."""
    session = uow.session
    if not await lock_outlet(session, tenant_id, outlet_id):
        raise LookupError(f"outlet {outlet_id} not found in tenant {tenant_id}")
    items = ItemRepository(session, tenant_id, outlet_id)
    if await items.count_all():
        return
    categories = CategoryRepository(session, tenant_id, outlet_id)
    groups = GroupRepository(session, tenant_id, outlet_id)
    modifiers = ModifierRepository(session, tenant_id, outlet_id)

    group_ids: dict[str, str] = {}
    for position, spec in enumerate(GROUPS):
        group = await groups.add(
            ModifierGroup(
                name=spec.name,
                name_i18n=_labels(spec.hi, spec.gu),
                min_select=spec.min_select,
                max_select=spec.max_select,
                required=spec.required,
                position=position,
            )
        )
        group_ids[spec.key] = group.id
        for index, (name, delta, hi, gu) in enumerate(spec.modifiers):
            await modifiers.add(
                Modifier(
                    group_id=group.id,
                    name=name,
                    name_i18n=_labels(hi, gu),
                    price_delta=delta,
                    position=index,
                )
            )

    item_ids: dict[str, str] = {}
    for position, spec_category in enumerate(CATEGORIES, start=1):
        category = await categories.add(
            MenuCategory(
                name=spec_category.name,
                name_i18n=_labels(spec_category.hi, spec_category.gu),
                position=position,
            )
        )
        for index, spec_item in enumerate(spec_category.items):
            row = await items.add(
                MenuItem(
                    category_id=category.id,
                    name=spec_item.name,
                    description=spec_item.description,
                    name_i18n=_labels(spec_item.hi, spec_item.gu),
                    price=spec_item.price,
                    gst_rate=spec_item.gst_rate,
                    hsn=spec_item.hsn,
                    dietary=sorted(spec_item.dietary),
                    allergens=sorted(spec_item.allergens),
                    station=spec_item.station,
                    position=index,
                )
            )
            item_ids[spec_item.key] = row.id
            if spec_item.groups:
                await items.set_groups(row.id, [group_ids[g] for g in spec_item.groups])

    combos = await categories.add(
        MenuCategory(name="Combos", name_i18n=_labels("कॉम्बो", "કૉમ્બો"), position=0)
    )
    for index, spec_combo in enumerate(COMBOS):
        row = await items.add(
            MenuItem(
                kind="combo",
                category_id=combos.id,
                name=spec_combo.name,
                description=spec_combo.description,
                name_i18n=_labels(spec_combo.hi, spec_combo.gu),
                price=spec_combo.price,
                dietary=sorted(spec_combo.dietary),
                allergens=sorted(spec_combo.allergens),
                station="kitchen",
                position=index,
            )
        )
        await items.set_components(
            row.id, [(item_ids[key], qty) for key, qty in spec_combo.components]
        )
        await items.set_groups(row.id, [group_ids[g] for g in spec_combo.groups])
    await bump_menu_version(session, tenant_id, outlet_id)
