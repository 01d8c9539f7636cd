"""The demo store: the project's own seeded, deterministic generator for the embedded default shop.

Everything comes from the tables below and one ``random.Random(seed)``, never from τ² data: products
in many categories, each with a written description, text attributes (material, use, features) and
visual attributes (color, pattern, shape) for a later image renderer; variants with options, prices
and stock; users with addresses and payment methods; orders in every status.

For a fraction of products (``hidden_visual_fraction``) the visual attributes exist only in the
``visual`` fields meant for the image renderer: their names, descriptions, options, attributes, ids and
image file names never mention color, pattern or shape, and ``visual_in_text`` is false so indexers
leave ``visual`` out. Fusion tests use these products to check that a shopper's "the striped one" can
only be answered from the image.

Which orders a user places, and what is in them, is decided by an :class:`OrderSampler`; the default
picks products uniformly, and a taste-based sampler (``shopagent.fusion.tastes.TasteSampler``) can
be plugged in without touching the rest. Order dates are
offsets from ``today``, so the same options give the same store, shifted to the given day (and the
return window stays meaningful whenever the demo is generated).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import product as cartesian
from typing import Any, Protocol

import numpy as np
from sqlalchemy.engine import Engine

from shopagent.agent.store.db import is_empty
from shopagent.agent.store.policy import DEMO_POLICY
from shopagent.agent.store.records import LoadSummary, load_records
from shopagent.agent.store.shop import Shop

Record = dict[str, Any]
Pick = tuple[str, str]  # (product_id, item_id)


@dataclass(frozen=True)
class Kind:
    """A type of product and what its instances can be like."""

    name: str
    price: tuple[int, int]  # dollars, low and high
    options: dict[str, tuple[str, ...]]  # non-visual option axes
    materials: tuple[str, ...]
    uses: tuple[str, ...]
    features: tuple[str, ...]
    shapes: tuple[str, ...]


SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES = ("6", "7", "8", "9", "10", "11", "12")
SML = ("small", "medium", "large")

CATEGORIES: dict[str, tuple[Kind, ...]] = {
    "Apparel": (
        Kind("Hoodie", (38, 85), {"size": SIZES}, ("cotton fleece", "organic cotton", "recycled polyester"),
             ("cool evenings", "weekend lounging", "layering on hikes"),
             ("a kangaroo pocket", "ribbed cuffs", "a lined hood", "flatlock seams"),
             ("boxy", "fitted", "oversized")),
        Kind("Tee", (14, 35), {"size": SIZES}, ("organic cotton", "linen blend", "merino wool"),
             ("everyday wear", "warm days", "travel"),
             ("a reinforced neckline", "side-seam construction", "a longer back hem"), ("boxy", "fitted")),
        Kind("Rain Jacket", (70, 190), {"size": SIZES}, ("ripstop nylon", "recycled polyester shell"),
             ("commuting in wet weather", "trail walks", "city travel"),
             ("taped seams", "a packable hood", "underarm vents", "two zip pockets"), ("fitted", "oversized")),
        Kind("Chinos", (40, 95), {"waist": ("28", "30", "32", "34", "36", "38")},
             ("stretch cotton twill", "organic cotton"), ("the office", "weekend outings"),
             ("a hidden coin pocket", "a gusseted crotch", "a clean hem"), ("tapered", "straight-leg")),
        Kind("Scarf", (22, 60), {"length": ("150 cm", "180 cm")}, ("lambswool", "cashmere blend", "brushed cotton"),
             ("winter commutes", "chilly mornings"), ("hand-finished fringes", "a brushed surface"),
             ("long", "wide")),
        Kind("Beanie", (15, 38), {"size": ("one size", "S-M", "L-XL")}, ("merino wool", "acrylic knit"),
             ("cold-weather walks", "ski trips"), ("a fold-up cuff", "a soft inner lining"), ("slouchy", "fitted")),
    ),
    "Footwear": (
        Kind("Trail Runner", (80, 160), {"size": SHOE_SIZES}, ("mesh and synthetic overlays", "recycled knit"),
             ("trail running", "rocky hikes"), ("a lugged outsole", "a rock plate", "a gusseted tongue"),
             ("low-top", "mid-top")),
        Kind("Chelsea Boot", (110, 240), {"size": SHOE_SIZES}, ("full-grain leather", "suede"),
             ("city days", "dinners out"), ("elastic side panels", "a stacked heel", "a pull tab"),
             ("almond-toe", "chisel-toe")),
        Kind("Slide Sandal", (20, 55), {"size": SHOE_SIZES}, ("molded foam", "cork and leather"),
             ("the beach", "poolside afternoons"), ("a contoured footbed", "a quick-dry strap"),
             ("wide", "narrow")),
        Kind("House Slipper", (18, 48), {"size": SHOE_SIZES}, ("felted wool", "shearling"),
             ("lazy mornings", "keeping feet warm indoors"), ("a non-slip sole", "a cushioned insole"),
             ("closed-back", "open-back")),
        Kind("Canvas Shoe", (35, 75), {"size": SHOE_SIZES}, ("cotton canvas", "hemp canvas"),
             ("summer errands", "casual days"), ("a vulcanized rubber sole", "metal eyelets"),
             ("low-top", "high-top")),
    ),
    "Bags": (
        Kind("Daypack", (45, 130), {"capacity": ("18 L", "24 L", "30 L")}, ("recycled nylon", "waxed canvas"),
             ("day hikes", "commuting", "school"), ("a padded laptop sleeve", "a hip belt", "side bottle pockets"),
             ("rectangular", "teardrop")),
        Kind("Tote Bag", (20, 70), {"size": SML}, ("heavy cotton canvas", "jute", "vegan leather"),
             ("groceries", "the beach", "work"), ("an inner zip pocket", "reinforced handles"),
             ("rectangular", "square")),
        Kind("Duffel Bag", (60, 160), {"capacity": ("40 L", "60 L", "90 L")}, ("ballistic nylon", "waxed canvas"),
             ("weekend trips", "the gym"), ("a shoe compartment", "a detachable shoulder strap"),
             ("cylindrical", "rectangular")),
        Kind("Messenger Bag", (55, 140), {"laptop size": ("13 in", "15 in")},
             ("waxed canvas", "full-grain leather"), ("commuting by bike", "the office"),
             ("a cross-body stabilizer strap", "a magnetic flap closure"), ("rectangular", "trapezoid")),
        Kind("Card Wallet", (18, 60), {"card slots": ("4", "6", "8")},
             ("vegetable-tanned leather", "recycled sailcloth"), ("everyday carry", "travel"),
             ("a quick-access slot", "RFID shielding"), ("rectangular", "square")),
    ),
    "Kitchen": (
        Kind("Coffee Mug", (12, 32), {"capacity": ("250 ml", "350 ml", "450 ml")},
             ("stoneware", "porcelain", "enamel steel"), ("morning coffee", "tea breaks"),
             ("a comfortable handle", "a dishwasher-safe glaze"), ("cylindrical", "tapered", "bell")),
        Kind("Teapot", (25, 70), {"capacity": ("0.8 L", "1.2 L")}, ("cast iron", "borosilicate glass", "stoneware"),
             ("loose-leaf tea", "afternoon tea for two"), ("a removable infuser", "a drip-free spout"),
             ("globe", "squat", "tall")),
        Kind("Chef Knife", (45, 160), {"blade length": ("16 cm", "20 cm", "24 cm")},
             ("German stainless steel", "Damascus steel"), ("daily prep", "slicing and dicing"),
             ("a full tang", "a balanced bolster", "a hand-honed edge"), ("western", "santoku")),
        Kind("Cutting Board", (20, 65), {"size": SML}, ("end-grain walnut", "acacia wood", "bamboo"),
             ("chopping vegetables", "serving cheese"), ("a juice groove", "non-slip feet"),
             ("rectangular", "oval", "round")),
        Kind("Saucepan", (35, 110), {"diameter": ("16 cm", "18 cm", "20 cm")},
             ("tri-ply stainless steel", "hard-anodized aluminium"), ("sauces and grains", "reheating soup"),
             ("a pouring lip", "a tempered glass lid", "a stay-cool handle"), ("straight-sided", "flared")),
        Kind("Insulated Flask", (20, 48), {"capacity": ("500 ml", "750 ml", "1000 ml")},
             ("double-wall stainless steel",), ("long hikes", "keeping coffee hot all day"),
             ("a leak-proof lid", "a powder-coated grip"), ("cylindrical", "hourglass")),
    ),
    "Home Decor": (
        Kind("Throw Pillow", (18, 55), {"size": ("40 x 40 cm", "50 x 50 cm", "30 x 50 cm")},
             ("linen", "velvet", "wool blend"), ("sofas", "reading nooks"),
             ("a hidden zip", "a feather-blend insert"), ("square", "rectangular", "round")),
        Kind("Vase", (20, 90), {"height": ("20 cm", "30 cm", "40 cm")},
             ("hand-thrown ceramic", "mouth-blown glass"), ("fresh flowers", "dried stems"),
             ("a watertight glaze", "a weighted base"), ("bulbous", "cylindrical", "conical")),
        Kind("Area Rug", (90, 420), {"size": ("120 x 170 cm", "160 x 230 cm", "200 x 300 cm")},
             ("hand-tufted wool", "flatweave jute"), ("living rooms", "bedrooms"),
             ("a low pile", "a non-slip backing"), ("rectangular", "round", "oval")),
        Kind("Table Lamp", (40, 150), {"height": ("35 cm", "45 cm", "60 cm")},
             ("ceramic and linen", "brushed brass"), ("bedside reading", "soft evening light"),
             ("an inline dimmer", "a fabric cord"), ("cylindrical", "domed", "conical")),
        Kind("Throw Blanket", (35, 120), {"size": ("130 x 170 cm", "150 x 200 cm")},
             ("merino wool", "cotton waffle knit"), ("movie nights", "chilly bedrooms"),
             ("a tasselled edge", "a breathable weave"), ("rectangular", "square")),
        Kind("Wall Clock", (25, 85), {"size": SML}, ("birch plywood", "powder-coated steel"),
             ("kitchens", "studies"), ("a silent sweep movement", "easy-read numerals"),
             ("round", "square", "hexagonal")),
    ),
    "Furniture": (
        Kind("Side Table", (60, 220), {"height": ("45 cm", "55 cm")},
             ("oak veneer", "powder-coated steel", "travertine"), ("next to the sofa", "bedside use"),
             ("a lower shelf", "levelling feet"), ("round", "square", "oval")),
        Kind("Bookcase", (120, 420), {"shelves": ("3", "4", "5")}, ("pine", "walnut veneer"),
             ("home libraries", "displaying plants"), ("adjustable shelves", "a wall anchor kit"),
             ("tall", "wide", "ladder")),
        Kind("Bar Stool", (55, 180), {"seat height": ("65 cm", "75 cm")}, ("bent ash wood", "steel and leather"),
             ("kitchen islands", "home bars"), ("a footrest ring", "floor protectors"), ("round", "square")),
        Kind("Writing Desk", (160, 520), {"width": ("100 cm", "120 cm", "140 cm")}, ("oak veneer", "bamboo"),
             ("home offices", "homework"), ("a cable tray", "a shallow drawer"), ("rectangular", "curved")),
        Kind("Lounge Chair", (220, 780), {"cushion": ("firm", "medium", "plush")},
             ("boucle upholstery", "leather upholstery"), ("reading corners", "living rooms"),
             ("high-density foam", "a kiln-dried frame"), ("curved", "angular")),
    ),
    "Electronics": (
        Kind("Wireless Earbuds", (40, 190), {"charging case": ("standard", "wireless charging")},
             ("matte polymer",), ("workouts", "commuting", "calls"),
             ("active noise cancelling", "an IPX4 rating", "multipoint pairing"), ("stem", "bud")),
        Kind("Bluetooth Speaker", (35, 220), {"power": ("10 W", "20 W", "40 W")},
             ("fabric-wrapped aluminium", "rubberized shell"), ("picnics", "showers", "small rooms"),
             ("a 12-hour battery", "stereo pairing", "a built-in mic"), ("cylindrical", "cube", "pill")),
        Kind("Power Bank", (25, 80), {"capacity": ("10000 mAh", "20000 mAh")},
             ("aluminium casing", "recycled plastic"), ("travel", "festival weekends"),
             ("USB-C fast charging", "pass-through charging"), ("slim", "brick")),
        Kind("Phone Case", (15, 45), {"phone size": ("6.1 in", "6.3 in", "6.7 in")},
             ("silicone", "recycled plastic", "leather"), ("daily protection", "drop protection"),
             ("raised camera edges", "a grippy finish"), ("slim", "rugged")),
        Kind("LED Desk Lamp", (30, 120), {"light": ("warm", "neutral", "adjustable")},
             ("aluminium", "steel and walnut"), ("late-night study", "detailed hobby work"),
             ("a touch dimmer", "a USB charging port"), ("arched", "angular")),
    ),
    "Outdoor": (
        Kind("Backpacking Tent", (140, 480), {"capacity": ("1-person", "2-person", "3-person")},
             ("silnylon", "ripstop polyester"), ("backpacking trips", "festival camping"),
             ("two vestibules", "color-coded poles", "a full-coverage fly"), ("dome", "tunnel")),
        Kind("Sleeping Bag", (70, 320), {"temperature rating": ("-5 °C", "0 °C", "5 °C")},
             ("down fill", "synthetic fill"), ("three-season camping", "alpine nights"),
             ("a draft collar", "a two-way zip"), ("mummy", "rectangular")),
        Kind("Camp Chair", (35, 120), {"max load": ("100 kg", "120 kg", "145 kg")},
             ("aluminium and polyester", "steel and canvas"), ("campsites", "beach days"),
             ("a cup holder", "a carry bag"), ("low", "high-back")),
        Kind("Headlamp", (20, 75), {"brightness": ("200 lm", "400 lm", "600 lm")}, ("polycarbonate",),
             ("night hikes", "power cuts"), ("a night-vision mode", "a rechargeable battery", "a tilting head"),
             ("low-profile", "angular")),
        Kind("Trekking Poles", (45, 160), {"length": ("110-135 cm", "120-145 cm")}, ("carbon fiber", "aluminium"),
             ("steep descents", "long treks"), ("cork grips", "flick locks"), ("straight", "folding")),
    ),
    "Sports": (
        Kind("Yoga Mat", (25, 95), {"thickness": ("4 mm", "6 mm", "8 mm")}, ("natural rubber", "TPE foam", "cork"),
             ("yoga", "pilates", "stretching"), ("a grippy surface", "alignment lines", "a carry strap"),
             ("rectangular", "oval")),
        Kind("Kettlebell", (25, 110), {"weight": ("8 kg", "12 kg", "16 kg", "20 kg")},
             ("cast iron", "steel with vinyl coating"), ("home workouts", "strength training"),
             ("a wide handle", "a flat base"), ("round", "bell")),
        Kind("Jump Rope", (10, 40), {"length": ("2.7 m", "3.0 m")}, ("coated steel cable", "PVC cord"),
             ("cardio", "boxing drills"), ("ball-bearing handles", "an adjustable length"),
             ("straight", "weighted")),
        Kind("Tennis Racket", (60, 230), {"grip size": ("1", "2", "3", "4")}, ("graphite", "aluminium"),
             ("club matches", "beginners"), ("a vibration dampener", "a pre-strung frame"), ("oval", "teardrop")),
        Kind("Cycling Helmet", (45, 190), {"size": ("S", "M", "L")}, ("in-mold EPS", "polycarbonate shell"),
             ("road cycling", "commuting"), ("a dial-fit system", "ventilation channels", "a rear light mount"),
             ("aero", "rounded")),
    ),
    "Toys": (
        Kind("Plush Animal", (12, 40), {"animal": ("fox", "bear", "rabbit", "owl"), "size": ("S", "M")},
             ("recycled polyester plush",), ("bedtime cuddles", "toddlers"),
             ("embroidered eyes", "a soft weighted body"), ("round", "tall")),
        Kind("Building Blocks", (20, 90), {"pieces": ("100", "250", "500")}, ("beech wood", "plant-based plastic"),
             ("creative play", "ages three and up"), ("a storage tub", "an idea booklet"), ("cube", "mixed")),
        Kind("Jigsaw Puzzle", (15, 38), {"pieces": ("500", "1000", "1500")}, ("recycled board",),
             ("rainy afternoons", "family evenings"), ("a poster guide", "precision-cut pieces"),
             ("rectangular", "square")),
        Kind("Stunt Kite", (25, 90), {"line length": ("20 m", "30 m")}, ("ripstop nylon and carbon spars",),
             ("windy beaches", "open fields"), ("dual control lines", "a quick-assembly frame"),
             ("delta", "diamond")),
        Kind("Wooden Train Set", (30, 120), {"pieces": ("30", "50", "80")}, ("beech wood", "maple wood"),
             ("imaginative play", "ages two and up"), ("magnetic couplings", "a bridge piece"),
             ("oval", "figure-eight")),
    ),
    "Stationery": (
        Kind("Notebook", (8, 28), {"ruling": ("lined", "grid", "blank"), "size": ("A5", "A6")},
             ("recycled paper", "stone paper"), ("journaling", "meeting notes"),
             ("lay-flat binding", "numbered pages", "an elastic closure"), ("portrait", "landscape")),
        Kind("Fountain Pen", (25, 160), {"nib": ("F", "M", "B")}, ("lacquered brass", "resin"),
             ("daily writing", "calligraphy practice"), ("a converter for bottled ink", "a screw cap"),
             ("cigar", "flat-top")),
        Kind("Pencil Case", (10, 35), {"size": SML}, ("waxed canvas", "felt"), ("school", "sketching kits"),
             ("two zip compartments", "elastic pen loops"), ("rectangular", "cylindrical")),
        Kind("Desk Organizer", (18, 70), {"compartments": ("3", "5", "7")}, ("bamboo", "powder-coated steel"),
             ("tidy desks", "home offices"), ("a phone slot", "felt-lined trays"), ("tiered", "flat")),
        Kind("Weekly Planner", (12, 32), {"size": ("A5", "A6")}, ("recycled paper",),
             ("planning the week", "habit tracking"), ("undated pages", "a ribbon marker"),
             ("portrait", "landscape")),
    ),
    "Beauty": (
        Kind("Hair Brush", (12, 45), {"bristles": ("boar", "nylon", "mixed")}, ("beech wood", "bamboo"),
             ("detangling", "smoothing long hair"), ("a cushioned pad", "an ergonomic handle"), ("paddle", "oval")),
        Kind("Soap Bar", (6, 16), {"scent": ("citrus", "cedar and sage", "eucalyptus", "unscented")},
             ("cold-processed oils",), ("daily washing", "sensitive skin"),
             ("no synthetic fragrance", "a long-lasting bar"), ("rectangular", "oval")),
        Kind("Toiletry Bag", (20, 65), {"size": SML}, ("water-resistant nylon", "waxed canvas"),
             ("travel", "gym bags"), ("a hanging hook", "a wipe-clean lining"), ("rectangular", "cylindrical")),
        Kind("Hand Mirror", (15, 50), {"magnification": ("1x", "5x", "10x")}, ("brass", "beech wood"),
             ("makeup", "grooming"), ("distortion-free glass", "a stand-up base"), ("round", "oval")),
        Kind("Toothbrush Set", (8, 24), {"bristles": ("soft", "medium")}, ("bamboo",),
             ("eco-friendly routines", "travel"), ("plant-based bristles", "a compostable handle"),
             ("slim", "curved")),
    ),
    "Garden": (
        Kind("Plant Pot", (12, 70), {"size": SML}, ("terracotta", "glazed stoneware", "fiberstone"),
             ("houseplants", "patio herbs"), ("a drainage hole", "a matching saucer"),
             ("round", "square", "conical")),
        Kind("Watering Can", (18, 55), {"capacity": ("1 L", "5 L", "9 L")},
             ("galvanized steel", "recycled plastic"), ("indoor plants", "vegetable beds"),
             ("a long spout", "a detachable rose head"), ("oval", "cylindrical")),
        Kind("Garden Gloves", (10, 30), {"size": ("S", "M", "L", "XL")},
             ("goatskin leather", "nitrile-coated knit"), ("pruning roses", "weeding"),
             ("reinforced fingertips", "a breathable back"), ("gauntlet", "short-cuff")),
        Kind("Bird Feeder", (20, 65), {"feeding ports": ("2", "4", "6")}, ("powder-coated steel", "cedar wood"),
             ("backyard birdwatching", "winter feeding"), ("a squirrel guard", "a tool-free refill lid"),
             ("cylindrical", "cottage")),
        Kind("Pruning Shears", (18, 60), {"blade": ("bypass", "anvil")}, ("carbon steel", "stainless steel"),
             ("shaping shrubs", "deadheading"), ("a sap groove", "a safety lock"), ("curved", "straight")),
    ),
    "Pets": (
        Kind("Pet Bed", (30, 140), {"size": SML}, ("recycled fiberfill", "memory foam"),
             ("senior dogs", "cats who love to curl up"), ("a removable washable cover", "a non-slip base"),
             ("round", "rectangular", "donut")),
        Kind("Dog Collar", (12, 40), {"size": ("S", "M", "L")}, ("nylon webbing", "leather"),
             ("daily walks", "training"), ("a quick-release buckle", "a tag ring"), ("flat", "rolled")),
        Kind("Cat Scratcher", (20, 95), {"height": ("50 cm", "80 cm", "120 cm")},
             ("sisal rope", "corrugated cardboard"), ("indoor cats", "saving your sofa"),
             ("a weighted base", "a dangling toy"), ("tower", "ramp")),
        Kind("Food Bowl", (10, 35), {"capacity": ("400 ml", "800 ml", "1.5 L")}, ("stainless steel", "stoneware"),
             ("mealtimes", "water"), ("a non-skid base", "a dishwasher-safe finish"), ("round", "square")),
        Kind("Leash", (15, 45), {"length": ("1.2 m", "1.8 m")}, ("climbing rope", "leather"),
             ("city walks", "training"), ("a padded handle", "a locking carabiner"), ("flat", "round-braided")),
    ),
}

COLORS = (
    "black", "white", "navy", "red", "forest green", "mustard", "sky blue", "charcoal", "cream", "burgundy", "teal",
    "orange", "lilac", "sand", "pink", "brown",
)
PATTERNS = (
    "solid", "striped", "checked", "polka dot", "floral", "geometric", "herringbone", "speckled", "chevron",
)
BRANDS = (
    "Alder", "Basalt", "Birch", "Bramble", "Cedar", "Cobble", "Cove", "Drift", "Dune", "Elm", "Fable", "Fern",
    "Fjord", "Flint", "Gale", "Glen", "Harbor", "Heron", "Hollow", "Isle", "Juniper", "Kestrel", "Linden", "Marlow",
    "Meadow", "Nimbus", "Oakum", "Pebble", "Quarry", "Rowan", "Sorrel", "Spruce", "Summit", "Thistle", "Tundra",
    "Vale", "Willow", "Wren", "Yarrow", "Zephyr", "Acorn", "Lark", "Moss", "Tarn",
)
ADJECTIVES = (
    "lightweight", "sturdy", "compact", "versatile", "durable", "minimalist", "classic", "practical", "comfortable",
    "well-made", "thoughtfully designed", "hard-wearing",
)
CLOSINGS = {
    "Apparel": ("Machine wash cold and hang to dry.", "Cut for easy movement and all-day comfort."),
    "Footwear": ("True to size; if between sizes, size up.", "Broken in within a few wears."),
    "Bags": ("Ships with a dust bag.", "Backed by our repair program."),
    "Kitchen": ("Hand washing keeps it looking new for years.", "Food-safe and free of PFAS."),
    "Home Decor": (
        "Each piece varies slightly, as handmade things do.",
        "Pairs easily with other pieces from the range.",
    ),
    "Furniture": ("Assembles in about twenty minutes with the included tools.", "Wipe clean with a damp cloth."),
    "Electronics": ("Charges over USB-C; cable included.", "Covered by firmware updates for three years."),
    "Outdoor": ("Tested in the field before release.", "Packs down small for the trail."),
    "Sports": ("Suitable for beginners and regulars alike.", "Built to take daily training."),
    "Toys": ("Safety-tested to EN 71.", "Made to be handed down."),
    "Stationery": ("Plastic-free packaging.", "Refills are sold separately."),
    "Beauty": ("Not tested on animals.", "Vegan and cruelty-free."),
    "Garden": ("Weather-resistant in every season.", "Made to last season after season."),
    "Pets": ("Chew-safety tested by our team.", "Easy to keep clean."),
}
FIRST_NAMES = (
    "Amara", "Bastian", "Camille", "Dario", "Elif", "Farah", "Gideon", "Hana", "Ilya", "Jonah", "Keiko", "Lucan",
    "Maren", "Nadia", "Oren", "Priya", "Quinn", "Rafael", "Saoirse", "Tobias", "Uma", "Viktor", "Wanjiru", "Xavi",
    "Yusra", "Zane", "Anouk", "Bram", "Céline", "Desmond", "Esme", "Felix", "Greta", "Hugo", "Imani", "Joaquin",
    "Kalani", "Leona", "Mateo", "Nell", "Odile", "Pavel", "Rosalind", "Soren", "Talia", "Ulric", "Vera", "Wyatt",
)
LAST_NAMES = (
    "Abernathy", "Bergström", "Castellanos", "Delacroix", "Eriksen", "Fitzgerald", "Goldberg", "Haddad", "Iwasaki",
    "Jablonski", "Kowalczyk", "Lindqvist", "Mbeki", "Nakamura", "Okonkwo", "Petrov", "Quiroga", "Rasmussen",
    "Sandoval", "Takahashi", "Underwood", "Valentin", "Whitlock", "Xiong", "Yilmaz", "Zielinski", "Achebe",
    "Brennan", "Calloway", "Dunmore", "Ellison", "Fairweather", "Galloway", "Hargreaves", "Ingram", "Jovanovic",
    "Kaminski", "Lachance", "Montague", "Novak", "Oyelaran", "Pemberton", "Rinaldi", "Stroud",
)
STREETS = (
    "Alder Lane", "Birchwood Avenue", "Canal Street", "Dockside Road", "Elmhurst Drive", "Foundry Way",
    "Granite Court", "Harborview Terrace", "Ironwood Place", "Juniper Row", "Kiln Street", "Lantern Hill Road",
    "Millpond Lane", "Northgate Avenue", "Orchard Walk", "Pinecrest Drive", "Quarry Street", "Riverbend Road",
    "Saltmarsh Lane", "Tannery Close",
)
CITIES = (
    ("Portland", "OR", "972"), ("Austin", "TX", "787"), ("Denver", "CO", "802"), ("Madison", "WI", "537"),
    ("Raleigh", "NC", "276"), ("Tucson", "AZ", "857"), ("Boise", "ID", "837"), ("Burlington", "VT", "054"),
    ("Savannah", "GA", "314"), ("Omaha", "NE", "681"), ("Sacramento", "CA", "958"), ("Albany", "NY", "122"),
    ("Richmond", "VA", "232"), ("Spokane", "WA", "992"), ("Ann Arbor", "MI", "481"), ("Santa Fe", "NM", "875"),
)
STATUS_WEIGHTS = {
    "pending": 30,
    "processed": 12,
    "delivered": 30,
    "cancelled": 10,
    "return requested": 6,
    "exchange requested": 6,
    "pending (item modified)": 6,
}


@dataclass(frozen=True)
class DemoOptions:
    seed: int = 0
    products: int = 500
    users: int = 300
    hidden_visual_fraction: float = 0.2
    today: date = field(default_factory=date.today)


class OrderSampler(Protocol):
    def sample(
        self, products: Sequence[Mapping[str, Any]], shopper_ids: Sequence[str], rng: np.random.Generator
    ) -> dict[str, list[list[Pick]]]:
        """Each shopper's orders, oldest first, as picks of available variants."""
        ...


class UniformSampler:
    """Zero to four orders per shopper, each of one to four different products chosen uniformly."""

    def sample(
        self, products: Sequence[Mapping[str, Any]], shopper_ids: Sequence[str], rng: np.random.Generator
    ) -> dict[str, list[list[Pick]]]:
        available = [[i for i, v in p["variants"].items() if v["available"]] for p in products]
        orders: dict[str, list[list[Pick]]] = {}
        for shopper in shopper_ids:
            orders[shopper] = []
            for _ in range(rng.choice(5, p=(0.1, 0.3, 0.3, 0.2, 0.1))):
                chosen = rng.choice(len(products), size=rng.choice((1, 1, 2, 2, 3, 4)), replace=False)
                orders[shopper].append([(products[i]["product_id"], str(rng.choice(available[i]))) for i in chosen])
        return orders


def generate(options: DemoOptions, sampler: OrderSampler | None = None) -> dict[str, dict[str, Record]]:
    """The demo store as τ²-shaped records with shop extensions, ready for :func:`load_records`."""
    return _Generator(options, sampler or UniformSampler()).run()


def load_demo(
    engine: Engine,
    options: DemoOptions,
    sampler: OrderSampler | None = None,
    *,
    replace: bool = False,
    progress: bool = False,
) -> LoadSummary:
    """Generate the demo store and load it, with the demo policy, into ``engine``."""
    return load_records(engine, generate(options, sampler), DEMO_POLICY, replace=replace, progress=progress)


class _Generator:
    def __init__(self, options: DemoOptions, sampler: OrderSampler) -> None:
        self.options = options
        self.sampler = sampler
        self.rng = random.Random(options.seed)
        self.used_ids: set[str] = set()

    def run(self) -> dict[str, dict[str, Record]]:
        products = self._products()
        users = [self._user() for _ in range(self.options.users)]
        orders = self._orders(users, products)
        return {
            "products": products,
            "users": {u["user_id"]: u for u in users},
            "orders": {o["order_id"]: o for o in orders},
        }

    def _id(self, prefix: str, digits: int) -> str:
        while True:
            value = prefix + "".join(self.rng.choice("0123456789") for _ in range(digits))
            if value not in self.used_ids and value[len(prefix)] != "0":
                self.used_ids.add(value)
                return value

    # --- catalog ----------------------------------------------------------------------------------

    def _products(self) -> dict[str, Record]:
        kinds = [(category, kind) for category, ks in CATEGORIES.items() for kind in ks]
        names: set[str] = set()
        products = {}
        for i in range(self.options.products):
            category, kind = kinds[i % len(kinds)]
            brands = [b for b in BRANDS if f"{b} {kind.name}" not in names]
            name = f"{self.rng.choice(brands)} {kind.name}" if brands else f"{kind.name} No. {i}"
            names.add(name)
            record = self._product(category, kind, name)
            products[record["product_id"]] = record
        return products

    def _product(self, category: str, kind: Kind, name: str) -> Record:
        rng = self.rng
        hidden = rng.random() < self.options.hidden_visual_fraction
        material, use = rng.choice(kind.materials), rng.choice(kind.uses)
        features = rng.sample(kind.features, k=min(2, len(kind.features)))
        pattern, shape = rng.choice(PATTERNS), rng.choice(kind.shapes)
        colors = rng.sample(COLORS, k=1 if hidden else rng.randint(2, 4))
        axes = {a: rng.sample(values, k=min(len(values), rng.randint(2, 3))) for a, values in kind.options.items()}
        if not hidden:
            axes["color"] = colors
        combos = list(cartesian(*axes.values()))
        rng.shuffle(combos)
        base = rng.uniform(*kind.price)
        variants = {}
        for number, combo in enumerate(combos[: rng.randint(2, 8)]):
            item_id = self._id("", 10)
            stock = rng.randint(1, 60) if number < 2 or rng.random() > 0.15 else 0
            variants[item_id] = {
                "item_id": item_id,
                "options": dict(zip(axes, combo, strict=True)),
                "available": stock > 0,
                "price": round(base * rng.uniform(0.9, 1.15), 2),
                "stock": stock,
                "visual": {} if hidden else {"color": dict(zip(axes, combo, strict=True))["color"]},
            }
        adjective = rng.choice(ADJECTIVES)
        opening = rng.choice(
            (
                f"The {name} is a {adjective} {kind.name.lower()} made of {material}, built for {use}.",
                f"Made of {material}, the {name} is a {adjective} {kind.name.lower()} for {use}.",
                f"For {use}, the {name} is a {adjective} pick, made of {material}.",
            )
        )
        sentences = [opening, f"It features {' and '.join(features)}."]
        offered = list(dict.fromkeys(v["visual"].get("color", colors[0]) for v in variants.values()))
        if not hidden:
            look = "solid colors" if pattern == "solid" else f"a {pattern} pattern"
            shades = offered[0] if len(offered) == 1 else f"{', '.join(offered[:-1])} or {offered[-1]}"
            sentences.append(f"Its {shape} shape comes in {look}, in {shades}.")
        sentences.append(rng.choice(CLOSINGS[category]))
        return {
            "name": name,
            "product_id": self._id("", 10),
            "variants": variants,
            "category": category,
            "description": " ".join(sentences),
            "attributes": {"material": material, "use": use, "features": ", ".join(features)},
            # The product's color is that of its first variant; a variant's own ``visual`` overrides it.
            "visual": {"color": offered[0], "pattern": pattern, "shape": shape},
            "visual_in_text": not hidden,
        }

    # --- customers --------------------------------------------------------------------------------

    def _user(self) -> Record:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        user_id = self._id(f"{_ascii(first).lower()}_{_ascii(last).lower()}_", 4)
        city, state, zip_prefix = rng.choice(CITIES)
        methods = []
        for source in rng.sample(("credit_card", "paypal", "gift_card"), k=rng.randint(1, 3)):
            method: Record = {"source": source, "id": self._id(f"{source}_", 7)}
            if source == "credit_card":
                brand = rng.choice(("visa", "mastercard", "amex", "discover"))
                method |= {"brand": brand, "last_four": f"{rng.randint(0, 9999):04d}"}
            elif source == "gift_card":
                method["balance"] = round(rng.uniform(0, 400), 2)
            methods.append(method)
        unit = rng.choice(("", "", f"Apt {rng.randint(1, 40)}{rng.choice('ABCD')}", f"Suite {rng.randint(1, 9)}00"))
        domain = rng.choice(("example.com", "example.org", "example.net"))
        return {
            "user_id": user_id,
            "name": {"first_name": first, "last_name": last},
            "address": {
                "address1": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
                "address2": unit,
                "city": city,
                "country": "USA",
                "state": state,
                "zip": f"{zip_prefix}{rng.randint(0, 99):02d}",
            },
            "email": f"{_ascii(first).lower()}.{_ascii(last).lower()}{user_id[-4:]}@{domain}",
            "payment_methods": {m["id"]: m for m in methods},
            "orders": [],
        }

    # --- orders -----------------------------------------------------------------------------------

    def _orders(self, users: list[Record], products: dict[str, Record]) -> list[Record]:
        picks = self.sampler.sample(
            list(products.values()), [u["user_id"] for u in users], np.random.default_rng(self.options.seed)
        )
        statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        orders = []
        for user in users:
            for order_picks in picks[user["user_id"]]:
                # The first orders take every status once, so even a tiny demo store has them all.
                first_orders = len(orders) < len(statuses)
                status = statuses[len(orders)] if first_orders else self.rng.choices(statuses, weights)[0]
                chosen = [(products[p], products[p]["variants"][i]) for p, i in order_picks]
                orders.append(self._order(user, chosen, status))
                user["orders"].append(orders[-1]["order_id"])
        return orders

    def _order(self, user: Record, chosen: list[tuple[Record, Record]], status: str) -> Record:
        rng = self.rng
        items = [
            {
                "name": p["name"],
                "product_id": p["product_id"],
                "item_id": v["item_id"],
                "price": v["price"],
                "options": dict(v["options"]),
            }
            for p, v in chosen
        ]
        method = rng.choice(list(user["payment_methods"]))
        total = round(sum(i["price"] for i in items), 2)
        age = {"pending": (0, 3), "pending (item modified)": (0, 3), "processed": (1, 5)}.get(status, (6, 90))
        placed = datetime.combine(self.options.today, time(9), UTC)
        placed -= timedelta(days=rng.randint(*age), minutes=rng.randint(0, 600))
        order: Record = {
            "order_id": self._id("#W", 7),
            "user_id": user["user_id"],
            "address": dict(user["address"]),
            "items": items,
            "status": status,
            "fulfillments": [],
            "payment_history": [_payment("payment", total, method)],
            "placed_at": placed,
        }
        if status not in ("pending", "pending (item modified)", "cancelled"):
            order["fulfillments"] = [{"tracking_id": [self._id("", 12)], "item_ids": [i["item_id"] for i in items]}]
        if status in ("delivered", "return requested", "exchange requested"):
            order["delivered_at"] = placed + timedelta(days=rng.randint(2, 5))
        if status == "cancelled":
            order["cancel_reason"] = rng.choice(DEMO_POLICY.cancel_reasons)
            order["payment_history"].append(_payment("refund", total, method))
        elif status == "return requested":
            returned = rng.sample(items, k=rng.randint(1, len(items)))
            order["return_items"] = sorted(i["item_id"] for i in returned)
            order["return_payment_method_id"] = method
        elif status in ("exchange requested", "pending (item modified)"):
            # Every generated product has at least two available variants, so there is an alternative.
            item, product = items[0], chosen[0][0]
            others = [v for v in product["variants"].values() if v["available"] and v["item_id"] != item["item_id"]]
            variant = rng.choice(others)
            difference = round(variant["price"] - item["price"], 2)
            if status == "exchange requested":
                order |= {
                    "exchange_items": [item["item_id"]],
                    "exchange_new_items": [variant["item_id"]],
                    "exchange_payment_method_id": method,
                    "exchange_price_difference": difference,
                }
            else:
                item |= {k: variant[k] for k in ("item_id", "price")} | {"options": dict(variant["options"])}
                kind = "payment" if difference > 0 else "refund"
                order["payment_history"].append(_payment(kind, abs(difference), method))
        return order


def _payment(kind: str, amount: float, method: str) -> Record:
    return {"transaction_type": kind, "amount": amount, "payment_method_id": method}


def _ascii(name: str) -> str:
    """Ids and emails stay ASCII: ``Céline`` → ``Celine``."""
    return name.translate(str.maketrans("éöü", "eou"))


def prepare_store(url: str) -> Shop:
    """The service's warm-up step: migrate the database and, when it is empty, seed the demo store."""
    shop = Shop.open(url)
    if is_empty(shop.engine):
        load_demo(shop.engine, DemoOptions())
    return shop
