"""edge_cases.json: Unicode, case folding, empty strings, unusual keys and values.

Case-insensitive comparisons lower-case both sides with Rust's
str::to_lowercase (SPEC 5.4). Only cases whose result is certain are used:
"ß" stays "ß" and "SS" becomes "ss", so "STRASSE" never equals "straße";
"İ" (U+0130) becomes "i" + U+0307; the Kelvin sign K (U+212A) becomes "k";
final sigma follows the std documentation example ("ὈΔΥΣΣΕΎΣ" -> "ὀδυσσεύς").
No Unicode normalisation is applied: "é" (U+00E9) differs from "e" + U+0301.
"""

from evalcase import CaseSet, bool_flag, cond, hit

FILE = "edge_cases.json"
DESCRIPTION = ("Unicode edge cases (case-insensitive comparisons per Rust str::to_lowercase, "
               "no normalisation, emoji and combining characters as bytes), empty strings, "
               "Unicode flag keys, variant names and values, targeting keys and attribute names.")

T, F = True, False


def build():
    s = CaseSet()
    ci = dict(case_insensitive=True)
    s.condition_table("ci-ecole", cond("equals", "v", "école", **ci), [
        ("upper precomposed", "ÉCOLE", T), ("decomposed e + U+0301", "e\u0301cole", F),
        ("decomposed upper E + U+0301", "E\u0301COLE", F)])
    s.condition_table("ecole-exact", cond("equals", "v", "\u00e9cole"), [
        ("precomposed", "\u00e9cole", T), ("decomposed is other bytes", "e\u0301cole", F)])
    s.condition_table("ci-strasse", cond("equals", "v", "straße", **ci), [
        ("SS does not fold to ß", "STRASSE", F), ("upper with ß", "STRAßE", T),
        ("lower", "straße", T), ("ss spelling", "strasse", F)])
    s.condition_table("ci-STRASSE-value", cond("equals", "v", "STRASSE", **ci), [
        ("ß does not equal ss", "straße", F), ("lower ss", "strasse", T)])
    s.condition_table("ci-dotted-capital-i", cond("equals", "v", "i\u0307stanbul", **ci), [
        ("İ lowercases to i + U+0307", "İSTANBUL", T), ("plain I", "ISTANBUL", F)])
    s.condition_table("ci-plain-istanbul", cond("equals", "v", "istanbul", **ci), [
        ("İ does not lowercase to plain i", "İSTANBUL", F), ("plain I", "ISTANBUL", T),
        ("dotless ı stays ı", "ıstanbul", F)])
    s.condition_table("ci-kelvin", cond("equals", "v", "k", **ci), [
        ("Kelvin sign U+212A", "\u212a", T), ("Latin K", "K", T)])
    s.condition_table("ci-greek-sigma", cond("equals", "v", "ὀδυσσεύς", **ci), [
        ("final sigma", "ὈΔΥΣΣΕΎΣ", T), ("already lower", "ὀδυσσεύς", T)])
    s.condition_table("ci-cyrillic-contains", cond("contains", "v", "ПРИВЕТ", **ci), [
        ("lower inside", "скажи привет миру", T), ("other", "пока", F)])
    s.condition_table("ci-starts-with-accents", cond("starts_with", "v", "ÅNGSTRÖM", **ci), [
        ("lower", "ångström-unit", T)])
    s.condition_table("ci-in-unicode", cond("in", "v", ["ÉTÉ", "ŒUVRE"], **ci), [
        ("lower été", "été", T), ("lower œuvre", "œuvre", T), ("oe spelling", "oeuvre", F)])
    s.condition_table("emoji-starts", cond("starts_with", "v", "🚀"), [
        ("emoji first", "🚀 launch", T), ("emoji later", "launch 🚀", F)])
    s.condition_table("emoji-contains-base", cond("contains", "v", "👍"), [
        ("with skin tone modifier", "ok 👍🏽!", T), ("other emoji", "👎", F)])
    s.condition_table("emoji-equals", cond("equals", "v", "👍"), [
        ("modifier makes it differ", "👍🏽", F), ("same", "👍", T)])
    s.condition_table("emoji-ends-with-modifier", cond("ends_with", "v", "\U0001F3FD"), [
        ("skin tone modifier is a suffix", "👍🏽", T)])
    s.condition_table("flag-sequence", cond("equals", "v", "🇳🇿"), [
        ("regional indicators", "\U0001F1F3\U0001F1FF", T), ("reversed", "\U0001F1FF\U0001F1F3", F)])
    s.condition_table("empty-in-list", cond("in", "v", ["", "x"]), [
        ("empty string", "", T), ("space", " ", F)])
    s.condition_table("ends-with-empty", cond("ends_with", "v", ""), [("any", "abc", T)])
    s.condition_table("unicode-attribute-name", cond("equals", "größe", "XL"), [
        ("value", "XL", T), ("other", "S", F)], attribute="größe")
    s.context_table("unicode-path", cond("equals", "ユーザー.国", "日本"), [
        ("nested", {"ユーザー": {"国": "日本"}}, T), ("top-level", {"ユーザー.国": "日本"}, T),
        ("other", {"ユーザー": {"国": "NZ"}}, F)])

    s.flag("ünïcødé-🚩", {"type": "string", "enabled": True,
                          "variants": {"🚀": "🚀 fusée", "∅": ""}, "off_variant": "∅",
                          "targets": [{"variant": "🚀", "keys": ["ユーザー42", "e\u0301"]}],
                          "fallthrough": {"variant": "∅"}})
    s.add("Unicode flag key, variant and target key", "ünïcødé-🚩",
          {"targetingKey": "ユーザー42"}, hit("🚀 fusée", "🚀", "TARGETING_MATCH"))
    s.add("decomposed target key matches itself", "ünïcødé-🚩",
          {"targetingKey": "e\u0301"}, hit("🚀 fusée", "🚀", "TARGETING_MATCH"))
    s.add("precomposed key does not match decomposed", "ünïcødé-🚩",
          {"targetingKey": "\u00e9"}, hit("", "∅", "DEFAULT"))
    s.add("Unicode flag key, empty string value", "ünïcødé-🚩", {"targetingKey": "x"},
          hit("", "∅", "DEFAULT"))
    s.add("flag keys are not normalised", "u\u0308nïcødé-🚩", {"targetingKey": "x"},
          {"value": None, "variant": None, "reason": "ERROR", "errorCode": "FLAG_NOT_FOUND"})

    s.flag("empty-targeting-key", bool_flag("off", targets=[{"variant": "on", "keys": [""]}]))
    s.add("empty string targeting key is a key", "empty-targeting-key", {"targetingKey": ""},
          hit(True, "on", "TARGETING_MATCH"))
    s.add("no targeting key does not match the empty key", "empty-targeting-key", {},
          hit(False, "off", "DEFAULT"))

    s.flag("dotted.flag.key", bool_flag("on"))
    s.add("flag key with dots", "dotted.flag.key", {}, hit(True, "on", "STATIC"))
    s.flag("long-string-value", {"type": "string", "enabled": True,
                                 "variants": {"long": "€" * 5000}, "off_variant": "long",
                                 "fallthrough": {"variant": "long"}})
    s.add("long multi-byte string value", "long-string-value", {}, hit("€" * 5000, "long", "STATIC"))
    s.flag("escapes", {"type": "string", "enabled": True,
                       "variants": {"q": "quote \" backslash \\ nul-free \t tab \u2028 ls"},
                       "off_variant": "q", "fallthrough": {"variant": "q"}})
    s.add("JSON escapes in values", "escapes", {},
          hit("quote \" backslash \\ nul-free \t tab \u2028 ls", "q", "STATIC"))
    return s
