"""Word lists for the demo world (transactional.demo.world): our own, written for Emporium.

Product names are an adjective and a noun of their category ("Merino Crew
Tee"); a category has 12 × 12 of them, enough for the largest category at
scale 10. Brands are made up. Places are real (US states with approximate
sales tax, Chinese provinces with a few cities and their postcode prefixes),
since the dashboards map demand by region.

Nothing here may hold a digit run long enough to look like a card number:
the world's generator checks every text it builds from these lists.
"""

from __future__ import annotations

from typing import NamedTuple


class Variant(NamedTuple):
    """One option of a category's variant dimension (a size, a colour, a pack)."""

    label: str  # shown in the SKU name: "M", "US 9", "500 g"
    code: str  # in the SKU code: uppercase letters and digits, at most 5
    price_factor: float  # × the product's base price
    weight_factor: float  # × the product's base weight
    popularity: float  # relative share of the product's demand


class VariantDimension(NamedTuple):
    """How a category's products vary: the attribute name, its options in display order, and how many a
    product offers (a contiguous run of the options, ``min_count`` to ``max_count``)."""

    attribute: str
    options: tuple[Variant, ...]
    min_count: int
    max_count: int


def _plain(attribute: str, labels: str, min_count: int, max_count: int) -> VariantDimension:
    """Options that differ in nothing but their label (colours)."""
    options = tuple(
        Variant(label, label.upper().replace(" ", "")[:5], 1.0, 1.0, 1.0) for label in labels.split(",")
    )
    return VariantDimension(attribute, options, min_count, max_count)


def _split_all(groups: dict[str, str], sep: str = ",") -> dict[str, tuple[str, ...]]:
    """Word lists written compactly: ``{"Apparel": "Merino, Linen"}`` -> ``{"Apparel": ("Merino", "Linen")}``."""
    return {key: tuple(word.strip() for word in words.split(sep)) for key, words in groups.items()}


# Per category: adjectives, nouns, brands and the variant dimension.
ADJECTIVES: dict[str, tuple[str, ...]] = _split_all(
    {
        "Apparel": "Merino, Linen, Organic Cotton, Brushed Flannel, Heavyweight, Relaxed, Slim, Ribbed, Washed Denim, Recycled, Everyday, Heritage",
        "Footwear": "Trail, Leather, Suede, Canvas, Waterproof, Lightweight, Cushioned, Vegan, Classic, Court, Alpine, City",
        "Home": "Stoneware, Linen, Woven, Oak, Rattan, Velvet, Ceramic, Hand-thrown, Wool, Jute, Brass, Speckled",
        "Kitchen": "Cast Iron, Enamel, Carbon Steel, Bamboo, Copper, Nonstick, Glass, Walnut, Stainless, Porcelain, Pro, Compact",
        "Grocery": "Single-origin, Organic, Smoked, Wildflower, Stone-ground, Roasted, Sea Salt, Cold-pressed, Heirloom, Spiced, Dark, Toasted",
        "Beauty": "Hydrating, Gentle, Vitamin C, Botanical, Clarifying, Overnight, Rose, Matte, Soothing, Brightening, Unscented, Daily",
        "Electronics": "Wireless, Noise-cancelling, Portable, Smart, Compact, Rugged, Fast-charge, Studio, Mini, Ultra, Magnetic, Solar",
        "Toys": "Wooden, Magnetic, Plush, Stacking, Musical, Glow, Pocket, Giant, Build-your-own, Rainbow, Explorer, Puzzle",
        "Sports": "Carbon, Grip, Pro, Foldable, Insulated, Adjustable, Trail, Aero, Balance, Resistance, Performance, Summit",
        "Books": "Illustrated, Collected, Pocket, Essential, Complete, Little, Modern, Hidden, Quiet, Wild, Slow, Everyday",
        "Garden": "Terracotta, Galvanized, Raised, Self-watering, Heritage, Compost, Hanging, Cedar, Folding, Heavy-duty, Wildlife, Solar",
        "Pets": "Orthopedic, Reflective, Chew-proof, Grain-free, Calming, Washable, Elevated, Interactive, Travel, Cozy, Natural, Training",
    }
)

NOUNS: dict[str, tuple[str, ...]] = _split_all(
    {
        "Apparel": "Crew Tee, Overshirt, Hoodie, Chinos, Cardigan, Rain Shell, Oxford Shirt, Joggers, Polo, Puffer Vest, Henley, Shorts",
        "Footwear": "Runner, Chelsea Boot, Sneaker, Loafer, Hiking Boot, Slipper, Sandal, Derby, Slip-on, High-top, Mule, Trainer",
        "Home": "Throw, Cushion, Vase, Table Lamp, Rug, Mirror, Candle, Planter, Bath Towel, Duvet Cover, Basket, Wall Clock",
        "Kitchen": "Skillet, Dutch Oven, Chef Knife, Cutting Board, Kettle, Saucepan, Mixing Bowl, Pour-over Set, Spice Rack, Wok, Baking Sheet, Utensil Set",
        "Grocery": "Coffee, Green Tea, Honey, Olive Oil, Granola, Chocolate, Pasta, Almonds, Maple Syrup, Hot Sauce, Rice, Oat Crackers",
        "Beauty": "Face Serum, Moisturizer, Cleanser, Lip Balm, Body Lotion, Shampoo, Hand Cream, Sunscreen, Eye Cream, Face Mask, Conditioner, Body Wash",
        "Electronics": "Earbuds, Speaker, Power Bank, Charger, Headphones, Desk Lamp, Webcam, Keyboard, Mouse, Smartwatch, USB-C Hub, Tracker Tag",
        "Toys": "Block Set, Train Set, Bear, Puzzle Box, Kite, Marble Run, Doll House, Race Car, Robot Kit, Drum, Telescope, Card Game",
        "Sports": "Yoga Mat, Water Bottle, Jump Rope, Dumbbell, Running Belt, Tennis Racket, Cycling Gloves, Foam Roller, Trekking Poles, Swim Goggles, Gym Bag, Kettlebell",
        "Books": "Field Guide, Cookbook, Atlas, Poetry, Garden Journal, Novel, Travel Guide, History, Sketchbook, Recipes, Essays, Almanac",
        "Garden": "Planter, Watering Can, Pruners, Hose Reel, Bird Feeder, Seed Kit, Trowel, Garden Bench, Raised Bed, Lantern, Compost Bin, Gloves",
        "Pets": "Dog Bed, Leash, Cat Tree, Chew Toy, Food Bowl, Harness, Treats, Litter Box, Collar, Carrier, Scratching Post, Dog Food",
    }
)

BRANDS: dict[str, tuple[str, ...]] = _split_all(
    {
        "Apparel": "Fieldhouse, Norrow, Tidewell",
        "Footwear": "Stridewell, Ashgrove, Kestrel",
        "Home": "Hearth & Loom, Willowmere, Casa Linde",
        "Kitchen": "Ironbark, Copperline, Mise",
        "Grocery": "Larder Lane, Golden Acre, Hillside Pantry",
        "Beauty": "Dewleaf, Solenne, Purely Kind",
        "Electronics": "Voltra, Lumio, Nordwave",
        "Toys": "Tinkerbox, Little Otter, Brightblock",
        "Sports": "Peakform, Ridgeline, Tempo",
        "Books": "Lantern Press, Marigold Books, Northlight",
        "Garden": "Greenreach, Bramble & Co, Sunplot",
        "Pets": "Pawsome, Barkley, Whisker Works",
    }
)

_SIZES = VariantDimension(
    "size",
    (
        Variant("XS", "XS", 1.0, 0.85, 0.45),
        Variant("S", "S", 1.0, 0.92, 0.9),
        Variant("M", "M", 1.0, 1.0, 1.3),
        Variant("L", "L", 1.0, 1.08, 1.15),
        Variant("XL", "XL", 1.0, 1.15, 0.7),
        Variant("XXL", "XXL", 1.0, 1.25, 0.35),
    ),
    3,
    4,
)

VARIANTS: dict[str, VariantDimension] = {
    "Apparel": _SIZES,
    "Footwear": VariantDimension(
        "size",
        tuple(
            Variant(f"US {n}", f"US{n}", 1.0, 0.9 + 0.03 * (n - 6), popularity)
            for n, popularity in zip(range(6, 14), (0.3, 0.6, 1.0, 1.3, 1.3, 1.0, 0.6, 0.3), strict=True)
        ),
        3,
        4,
    ),
    "Home": _plain("colour", "Sand,Slate,Sage,Oat,Charcoal,Terracotta", 1, 4),
    "Kitchen": VariantDimension(
        "size",
        (
            Variant("Small", "SM", 0.8, 0.7, 0.8),
            Variant("Medium", "MD", 1.0, 1.0, 1.2),
            Variant("Large", "LG", 1.3, 1.4, 0.8),
        ),
        2,
        3,
    ),
    "Grocery": VariantDimension(
        "pack",
        (
            Variant("250 g", "250G", 1.0, 1.0, 1.3),
            Variant("500 g", "500G", 1.8, 1.9, 0.9),
            Variant("1 kg", "1KG", 3.2, 3.7, 0.45),
        ),
        1,
        3,
    ),
    "Beauty": VariantDimension(
        "volume",
        (
            Variant("30 ml", "30ML", 0.7, 0.7, 0.6),
            Variant("50 ml", "50ML", 1.0, 1.0, 1.2),
            Variant("100 ml", "100ML", 1.6, 1.7, 0.8),
        ),
        2,
        3,
    ),
    "Electronics": _plain("colour", "Black,White,Graphite,Blue", 2, 4),
    "Toys": VariantDimension(
        "edition",
        (Variant("Standard", "STD", 1.0, 1.0, 1.4), Variant("Deluxe", "DLX", 1.5, 1.4, 0.6)),
        1,
        2,
    ),
    "Sports": _SIZES,
    "Books": VariantDimension(
        "format",
        (Variant("Paperback", "PB", 1.0, 1.0, 1.4), Variant("Hardcover", "HC", 1.6, 1.8, 0.6)),
        1,
        2,
    ),
    "Garden": VariantDimension(
        "size",
        (
            Variant("Small", "SM", 0.7, 0.6, 0.9),
            Variant("Medium", "MD", 1.0, 1.0, 1.2),
            Variant("Large", "LG", 1.5, 1.6, 0.7),
        ),
        2,
        3,
    ),
    "Pets": VariantDimension(
        "size",
        (
            Variant("Small", "S", 0.8, 0.6, 0.9),
            Variant("Medium", "M", 1.0, 1.0, 1.2),
            Variant("Large", "L", 1.4, 1.7, 0.9),
        ),
        2,
        3,
    ),
}

# "<adjective> <noun>" plus one of these, as the product description's second sentence.
PITCHES: dict[str, tuple[str, ...]] = _split_all(
    sep="|",
    groups={
        "Apparel": "Cut for everyday wear. | Soft from the first wash. | Made to be layered.",
        "Footwear": "Broken in from day one. | Grippy sole, light step. | Built for long days.",
        "Home": "Made in small batches. | Brings warmth to any room. | Pairs with everything.",
        "Kitchen": "Oven safe and built to last. | Balanced in the hand. | A cook's favourite.",
        "Grocery": "Sourced from small growers. | Best within a year. | Packed fresh.",
        "Beauty": "Dermatologist tested. | Free of parabens. | For every skin type.",
        "Electronics": "Two-year warranty. | Charges over USB-C. | Pairs in seconds.",
        "Toys": "Ages three and up. | No batteries needed. | Hours of open-ended play.",
        "Sports": "Tested by coaches. | Sweat resistant. | Packs down small.",
        "Books": "A reader favourite. | Beautifully bound. | With a new foreword.",
        "Garden": "Weatherproof finish. | Grows with your garden. | Frost resistant.",
        "Pets": "Vet approved. | Machine washable. | Loved by picky pets.",
    },
)


class UsState(NamedTuple):
    """A US state customers live in: population weight (millions), approximate combined state and
    local sales tax (standard and groceries/books), and real area codes for fictional 555-01xx
    phone numbers."""

    code: str
    population_m: float
    standard_rate: str
    reduced_rate: str
    area_codes: tuple[str, ...]


# Approximate average combined rates, rounded; a demo, not tax advice.
US_STATES: tuple[UsState, ...] = (
    UsState("CA", 39.0, "0.0885", "0.0000", ("213", "415", "619", "916")),
    UsState("TX", 30.5, "0.0820", "0.0000", ("512", "713", "214")),
    UsState("FL", 22.6, "0.0700", "0.0000", ("305", "407", "813")),
    UsState("NY", 19.6, "0.0853", "0.0000", ("212", "718", "518")),
    UsState("PA", 13.0, "0.0634", "0.0000", ("215", "412")),
    UsState("IL", 12.5, "0.0886", "0.0100", ("312", "773")),
    UsState("OH", 11.8, "0.0724", "0.0000", ("614", "216")),
    UsState("GA", 11.0, "0.0738", "0.0200", ("404", "678")),
    UsState("NC", 10.8, "0.0700", "0.0200", ("704", "919")),
    UsState("MI", 10.0, "0.0600", "0.0000", ("313", "616")),
    UsState("NJ", 9.3, "0.0660", "0.0000", ("201", "973")),
    UsState("VA", 8.7, "0.0577", "0.0100", ("703", "804")),
    UsState("WA", 7.8, "0.0938", "0.0000", ("206", "509")),
    UsState("AZ", 7.4, "0.0838", "0.0000", ("602", "520")),
    UsState("MA", 7.0, "0.0625", "0.0000", ("617", "508")),
    UsState("TN", 7.0, "0.0955", "0.0675", ("615", "901")),
    UsState("IN", 6.8, "0.0700", "0.0000", ("317", "219")),
    UsState("MD", 6.2, "0.0600", "0.0000", ("410", "301")),
    UsState("MO", 6.2, "0.0839", "0.0423", ("314", "816")),
    UsState("WI", 5.9, "0.0570", "0.0000", ("414", "608")),
    UsState("CO", 5.9, "0.0781", "0.0000", ("303", "719")),
    UsState("MN", 5.7, "0.0749", "0.0000", ("612", "651")),
    UsState("SC", 5.3, "0.0750", "0.0000", ("803", "843")),
    UsState("KY", 4.5, "0.0600", "0.0000", ("502", "859")),
    UsState("OR", 4.2, "0.0000", "0.0000", ("503", "541")),
    UsState("CT", 3.6, "0.0635", "0.0000", ("203", "860")),
    UsState("UT", 3.4, "0.0720", "0.0300", ("801", "435")),
    UsState("NV", 3.2, "0.0824", "0.0000", ("702", "775")),
)

# Where Chinese-American customers live (zh_CN names, US addresses): weights by state.
CHINESE_AMERICAN_STATES: dict[str, float] = {
    "CA": 0.38,
    "NY": 0.2,
    "TX": 0.08,
    "NJ": 0.06,
    "MA": 0.06,
    "WA": 0.06,
    "IL": 0.05,
    "PA": 0.04,
    "MD": 0.04,
    "VA": 0.03,
}


class Province(NamedTuple):
    """A Chinese province (or municipality) customers live in: the region is its pinyin name (regions
    are ASCII), the address uses the Chinese names; cities come with their 3-digit postcode prefix."""

    region: str
    name_zh: str
    weight: float
    cities: tuple[tuple[str, str], ...]


PROVINCES: tuple[Province, ...] = (
    Province("Guangdong", "广东省", 0.2, (("广州市", "510"), ("深圳市", "518"), ("东莞市", "523"))),
    Province("Shanghai", "上海市", 0.16, (("上海市", "200"),)),
    Province("Beijing", "北京市", 0.13, (("北京市", "100"),)),
    Province("Zhejiang", "浙江省", 0.12, (("杭州市", "310"), ("宁波市", "315"))),
    Province("Jiangsu", "江苏省", 0.11, (("南京市", "210"), ("苏州市", "215"))),
    Province("Sichuan", "四川省", 0.07, (("成都市", "610"),)),
    Province("Fujian", "福建省", 0.06, (("厦门市", "361"), ("福州市", "350"))),
    Province("Hubei", "湖北省", 0.05, (("武汉市", "430"),)),
    Province("Shandong", "山东省", 0.06, (("青岛市", "266"), ("济南市", "250"))),
    Province("Tianjin", "天津市", 0.04, (("天津市", "300"),)),
)

# Reserved for documentation (RFC 2606): no demo e-mail can reach a real mailbox.
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")
