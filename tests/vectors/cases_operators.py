"""operators.json: every operator of SPEC 3.2 with the comparison rules of 5.4.

Each flag is a boolean flag with one rule; the rule serves "on"
(TARGETING_MATCH) when its condition holds, else the fallthrough serves
"off" (DEFAULT). The attribute is "v" unless a case says otherwise.
"""

from evalcase import ABSENT, CaseSet, cond

FILE = "operators.json"
DESCRIPTION = ("Every condition operator of SPEC 3.2 / 5.4, positive and negative: "
               "case_insensitive, negate, not_ forms, array-valued attributes (any element), "
               "missing, null and wrong-type attributes (never match, even negated), "
               "exact numeric comparison, SemVer 2.0.0 precedence, before/after with "
               "RFC 3339 strings and epoch seconds, exists/missing.")

T, F = True, False


def equality(s):
    s.condition_table("equals-str", cond("equals", "v", "gold"), [
        ("same string", "gold", T), ("other case", "Gold", F), ("trailing space", "gold ", F),
        ("prefix", "gol", F), ("missing", ABSENT, F), ("null", None, F),
        ("number is not comparable", 5, F), ("bool is not comparable", True, F),
        ("object is not comparable", {"v": "gold"}, F),
        ("array with the value", ["silver", "gold"], T), ("array without it", ["silver"], F),
        ("empty array", [], F), ("nested array is not searched", [["gold"]], F),
        ("array with a null and the value", [None, "gold"], T)])
    s.condition_table("equals-str-ci", cond("equals", "v", "Gold", case_insensitive=True), [
        ("upper", "GOLD", T), ("lower", "gold", T), ("longer", "golden", F),
        ("number", 1, F)])
    s.condition_table("equals-empty", cond("equals", "v", ""), [
        ("empty string", "", T), ("space", " ", F), ("missing", ABSENT, F)])
    s.condition_table("equals-num", cond("equals", "v", 3), [
        ("integer", 3, T), ("float with same value", 3.0, T), ("string 3", "3", F),
        ("bool", True, F), ("other float", 3.5, F), ("negative", -3, F)])
    s.condition_table("equals-float", cond("equals", "v", 2.5), [
        ("same float", 2.5, T), ("integer 2", 2, F), ("string", "2.5", F)])
    s.condition_table("equals-zero", cond("equals", "v", 0), [
        ("negative zero float", -0.0, T), ("zero float", 0.0, T), ("false is not 0", False, F)])
    s.condition_table("equals-2p53", cond("equals", "v", 9007199254740992.0), [
        ("integer 2^53", 9007199254740992, T),
        ("integer 2^53+1 is not 2^53", 9007199254740993, F)])
    s.condition_table("equals-2p53-plus1", cond("equals", "v", 9007199254740993), [
        ("same integer", 9007199254740993, T),
        ("float 2^53 is not 2^53+1", 9007199254740992.0, F)])
    s.condition_table("equals-i64-max", cond("equals", "v", 9223372036854775807), [
        ("same integer", 9223372036854775807, T),
        ("float 2^63 is not i64 max", 9223372036854775808.0, F),
        ("i64 max minus one", 9223372036854775806, F)])
    s.condition_table("equals-bool", cond("equals", "v", True), [
        ("true", True, T), ("false", False, F), ("string true", "true", F), ("one", 1, F)])
    s.condition_table("equals-negate", cond("equals", "v", "gold", negate=True), [
        ("same string", "gold", F), ("other string", "silver", T),
        ("missing never matches", ABSENT, F), ("null never matches", None, F),
        ("wrong type never matches", 5, F), ("array containing it", ["gold", "x"], F),
        ("empty array never matches", [], F)])
    s.condition_table("not-equals", cond("not_equals", "v", "gold"), [
        ("other string", "silver", T), ("same string", "gold", F),
        ("missing never matches", ABSENT, F), ("wrong type never matches", 5, F),
        ("array containing it", ["gold", "silver"], F), ("array without it", ["silver", "x"], T),
        ("mixed array, comparable element differs", [5, "silver"], T),
        ("array of wrong types never matches", [5, True], F), ("empty array", [], F)])
    s.condition_table("not-equals-ci", cond("not_equals", "v", "GOLD", case_insensitive=True), [
        ("same ignoring case", "gold", F), ("other", "silver", T)])
    s.condition_table("not-equals-negate", cond("not_equals", "v", "gold", negate=True), [
        ("same string", "gold", T), ("other string", "silver", F),
        ("missing never matches", ABSENT, F), ("wrong type never matches", 1.5, F)])
    s.condition_table("not-equals-num", cond("not_equals", "v", 10), [
        ("float 10.0 equals 10", 10.0, F), ("11", 11, T), ("string", "11", F)])


def membership(s):
    s.condition_table("in-str", cond("in", "v", ["a", "b", "c"]), [
        ("listed", "b", T), ("unlisted", "d", F), ("other case", "B", F),
        ("missing", ABSENT, F), ("number vs strings", 1, F),
        ("array with a listed element", ["x", "c"], T), ("array without", ["x", "y"], F)])
    s.condition_table("in-ci", cond("in", "v", ["Alpha", "BETA"], case_insensitive=True), [
        ("lower", "alpha", T), ("lower 2", "beta", T), ("upper", "ALPHA", T), ("other", "gamma", F)])
    s.condition_table("in-num", cond("in", "v", [1, 2.5, 9007199254740993]), [
        ("float equal to listed integer", 1.0, T), ("listed float", 2.5, T),
        ("listed large integer", 9007199254740993, T),
        ("2^53 integer is not listed", 9007199254740992, F),
        ("2^53 float is not listed", 9007199254740992.0, F),
        ("string vs numbers", "1", F)])
    s.condition_table("in-mixed", cond("in", "v", ["a", 1, True]), [
        ("listed string", "a", T), ("listed number as float", 1.0, T), ("listed bool", True, T),
        ("unlisted string", "b", F), ("unlisted number", 2, F), ("unlisted bool", False, F),
        ("null", None, F), ("object", {}, F)])
    s.condition_table("not-in-mixed", cond("not_in", "v", ["a", 1]), [
        ("unlisted string", "b", T), ("unlisted number", 2.5, T), ("listed number", 1, F),
        ("bool: no bool in the list, never matches", False, F),
        ("array with a comparable unlisted element", [True, "z"], T)])
    s.condition_table("in-bool", cond("in", "v", [True]), [
        ("true", True, T), ("false", False, F), ("string", "true", F)])
    s.condition_table("not-in", cond("not_in", "v", ["a", "b"]), [
        ("unlisted", "c", T), ("listed", "a", F), ("missing never matches", ABSENT, F),
        ("number vs strings never matches", 1, F), ("array with a listed element", ["c", "a"], F),
        ("array without", ["c", "d"], T), ("empty array never matches", [], F)])
    s.condition_table("not-in-ci", cond("not_in", "v", ["Alpha"], case_insensitive=True), [
        ("listed ignoring case", "ALPHA", F), ("unlisted", "beta", T)])
    s.condition_table("not-in-negate", cond("not_in", "v", ["a"], negate=True), [
        ("listed", "a", T), ("unlisted", "b", F), ("missing never matches", ABSENT, F)])


def strings(s):
    s.condition_table("contains", cond("contains", "v", "acme"), [
        ("substring", "team@acme.com", T), ("other case", "ACME", F), ("empty", "", F),
        ("number", 5, F), ("missing", ABSENT, F), ("array element", ["x", "my-acme"], T)])
    s.condition_table("contains-ci", cond("contains", "v", "ACME", case_insensitive=True), [
        ("lower", "team@acme.com", T), ("mixed", "Acme Inc", T), ("absent", "ac me", F)])
    s.condition_table("contains-empty", cond("contains", "v", ""), [
        ("empty string", "", T), ("any string", "anything", T), ("number", 0, F)])
    s.condition_table("contains-negate", cond("contains", "v", "acme", negate=True), [
        ("absent", "other", T), ("present", "acme", F), ("missing never matches", ABSENT, F),
        ("wrong type never matches", 7, F)])
    s.condition_table("starts-with", cond("starts_with", "v", "admin-"), [
        ("prefix", "admin-1", T), ("other case", "Admin-1", F), ("inside", "xadmin-", F),
        ("number", 7, F), ("equal", "admin-", T)])
    s.condition_table("starts-with-ci", cond("starts_with", "v", "ADMIN-", case_insensitive=True), [
        ("lower", "admin-1", T), ("no", "user-1", F)])
    s.condition_table("starts-with-empty", cond("starts_with", "v", ""), [
        ("empty string", "", T), ("any", "x", T)])
    s.condition_table("ends-with", cond("ends_with", "v", "@acme.com"), [
        ("suffix", "a@acme.com", T), ("not at end", "a@acme.com.evil", F),
        ("other case", "A@ACME.COM", F), ("bool", False, F)])
    s.condition_table("ends-with-ci", cond("ends_with", "v", "@ACME.com", case_insensitive=True), [
        ("mixed", "A@acme.COM", T), ("no", "a@acme.org", F)])
    s.condition_table("ends-with-negate", cond("ends_with", "v", "@acme.com", negate=True), [
        ("other domain", "a@other.com", T), ("same domain", "b@acme.com", F),
        ("missing never matches", ABSENT, F)])


def regexes(s):
    s.condition_table("matches", cond("matches", "v", "^user-[0-9]+$"), [
        ("match", "user-42", T), ("letters", "user-x", F), ("prefix breaks anchor", "xuser-42", F),
        ("number is not a string", 42, F), ("missing", ABSENT, F),
        ("array element", ["bad", "user-7"], T)])
    s.condition_table("matches-unanchored", cond("matches", "v", "b+"), [
        ("inside", "abbbc", T), ("absent", "ac", F)])
    s.condition_table("matches-ci", cond("matches", "v", "^ADMIN", case_insensitive=True), [
        ("lower", "admin-1", T), ("mixed", "Admin", T), ("not at start", "xadmin", F)])
    s.condition_table("matches-negate", cond("matches", "v", "^test", negate=True), [
        ("no match", "prod", T), ("match", "test1", F), ("missing never matches", ABSENT, F),
        ("bool never matches", True, F)])
    s.condition_table("matches-alternation", cond("matches", "v", "^(gold|platinum)$"), [
        ("gold", "gold", T), ("platinum", "platinum", T), ("golden", "golden", F)])
    s.condition_table("matches-digits", cond("matches", "v", "\\d{3}"), [
        ("three digits inside", "a123b", T), ("two digits", "a12b", F)])
    s.condition_table("matches-escaped-dot", cond("matches", "v", "^a\\.b$"), [
        ("dot", "a.b", T), ("any char is not a dot", "axb", F)])
    s.condition_table("matches-empty-string", cond("matches", "v", "^$"), [
        ("empty", "", T), ("nonempty", "a", F)])
    s.condition_table("matches-ci-ascii-only", cond("matches", "v", "^é$", case_insensitive=True), [
        ("same letter", "é", T), ("non-ASCII other case is not folded", "É", F)])
    s.condition_table("matches-word-boundary", cond("matches", "v", "\\bcat\\b"), [
        ("a word", "a cat sat", T), ("inside a word", "concat", F),
        ("non-ASCII letters are not word characters", "écatà", T)])
    s.condition_table("matches-ascii-digits", cond("matches", "v", "^\\d+$"), [
        ("ASCII digits", "123", T), ("other digits are not \\d", "١٢٣", F)])


def numbers(s):
    s.condition_table("lt", cond("lt", "v", 10), [
        ("less", 9, T), ("equal", 10, F), ("fraction less", 9.999, T), ("equal float", 10.0, F),
        ("very negative", -1e308, T), ("string is not a number", "9", F), ("missing", ABSENT, F),
        ("bool is not a number", True, F), ("array any element", [20, 5], T), ("array none", [20], F)])
    s.condition_table("lte", cond("lte", "v", 10), [
        ("equal", 10, T), ("equal float", 10.0, T), ("greater", 10.5, F)])
    s.condition_table("gt", cond("gt", "v", 10), [
        ("greater", 11, T), ("equal", 10, F), ("next float above 10", 10.000000000000002, T)])
    s.condition_table("gte", cond("gte", "v", 10), [("equal", 10, T), ("less", 9, F)])
    s.condition_table("lt-negate", cond("lt", "v", 10, negate=True), [
        ("greater", 11, T), ("less", 5, F), ("string never matches", "x", F),
        ("missing never matches", ABSENT, F)])
    s.condition_table("gt-2p53-float", cond("gt", "v", 9007199254740992.0), [
        ("integer 2^53+1 is greater", 9007199254740993, T),
        ("integer 2^53 is not", 9007199254740992, F),
        ("float 2^53 is not", 9007199254740992.0, F)])
    s.condition_table("lt-2p63-float", cond("lt", "v", 9223372036854775808.0), [
        ("i64 max is below 2^63", 9223372036854775807, T),
        ("float 2^63 is not below itself", 9223372036854775808.0, F)])
    s.condition_table("lt-i64-max", cond("lt", "v", 9223372036854775807), [
        ("i64 max minus one", 9223372036854775806, T), ("i64 max", 9223372036854775807, F),
        ("integer beyond i64 is a float and greater", 18446744073709551615, F)])
    s.condition_table("gte-i64-min", cond("gte", "v", -9223372036854775808), [
        ("i64 min", -9223372036854775808, T), ("float -2^63", -9223372036854775808.0, T),
        ("-1e19", -1e19, F)])
    s.condition_table("lt-zero", cond("lt", "v", 0), [
        ("negative zero is not below 0", -0.0, F), ("tiny negative", -5e-324, T)])
    s.condition_table("lte-zero", cond("lte", "v", 0), [("negative zero", -0.0, T)])
    s.condition_table("gt-1e308", cond("gt", "v", 1e308), [
        ("equal", 1e308, F), ("1.5e308", 1.5e308, T)])
    s.condition_table("gte-1e308", cond("gte", "v", 1e308), [("equal", 1e308, T)])
    s.condition_table("gt-i64-max", cond("gt", "v", 9223372036854775807), [
        ("1e308", 1e308, T), ("i64 max", 9223372036854775807, F)])
    s.condition_table("lt-fraction", cond("lt", "v", 0.5), [
        ("0.25", 0.25, T), ("0", 0, T), ("0.5", 0.5, F), ("1", 1, F)])


def semvers(s):
    s.condition_table("semver-eq", cond("semver_eq", "v", "1.2.3"), [
        ("equal", "1.2.3", T), ("build metadata ignored", "1.2.3+build.5", T),
        ("patch differs", "1.2.4", F), ("prerelease is not equal", "1.2.3-0", F),
        ("two parts not comparable", "1.2", F), ("leading v not comparable", "v1.2.3", F),
        ("leading zero not comparable", "01.2.3", F), ("number not comparable", 123, F),
        ("missing", ABSENT, F)])
    s.condition_table("semver-eq-build", cond("semver_eq", "v", "1.0.0-alpha+001"), [
        ("same prerelease, no build", "1.0.0-alpha", T),
        ("same prerelease, other build", "1.0.0-alpha+exp.sha.5114f85", T),
        ("release", "1.0.0", F)])
    s.condition_table("semver-eq-negate", cond("semver_eq", "v", "1.2.3", negate=True), [
        ("different", "1.2.4", T), ("equal", "1.2.3", F),
        ("invalid never matches", "1.2", F), ("leading v never matches", "v1.2.3", F)])
    s.condition_table("semver-lt-1.0.0", cond("semver_lt", "v", "1.0.0"), [
        ("alpha prerelease", "1.0.0-alpha", T), ("rc prerelease", "1.0.0-rc.1", T),
        ("lower patch line", "0.9.9", T), ("equal", "1.0.0", F), ("equal with build", "1.0.0+b", F),
        ("greater", "1.0.1", F), ("invalid 1.0", "1.0", F), ("empty prerelease", "1.0.0-", F),
        ("empty build", "1.0.0+", F), ("leading zero numeric prerelease", "1.0.0-01", F),
        ("empty prerelease identifier", "1.0.0-alpha..1", F), ("leading space", " 0.1.0", F),
        ("four parts", "0.1.0.0", F), ("empty string", "", F),
        ("array: one invalid, one lower", ["bad", "0.5.0"], T),
        ("array: only invalid and greater", ["bad", "2.0.0"], F)])
    s.condition_table("semver-gt-alpha", cond("semver_gt", "v", "1.0.0-alpha"), [
        ("alpha.1", "1.0.0-alpha.1", T), ("alpha", "1.0.0-alpha", F),
        ("uppercase sorts before lowercase", "1.0.0-Alpha", F), ("alpha.beta", "1.0.0-alpha.beta", T),
        ("beta", "1.0.0-beta", T), ("release", "1.0.0", T), ("lower version", "0.9.0", F)])
    s.condition_table("semver-lt-alpha.1", cond("semver_lt", "v", "1.0.0-alpha.1"), [
        ("alpha", "1.0.0-alpha", T), ("alpha.1", "1.0.0-alpha.1", F), ("alpha.beta", "1.0.0-alpha.beta", F)])
    s.condition_table("semver-lt-beta", cond("semver_lt", "v", "1.0.0-beta"), [
        ("alpha.beta", "1.0.0-alpha.beta", T), ("alpha.1", "1.0.0-alpha.1", T),
        ("beta", "1.0.0-beta", F), ("beta.2", "1.0.0-beta.2", F)])
    s.condition_table("semver-gte-beta.11", cond("semver_gte", "v", "1.0.0-beta.11"), [
        ("beta.2 is numerically lower", "1.0.0-beta.2", F), ("beta.11", "1.0.0-beta.11", T),
        ("rc.1", "1.0.0-rc.1", T), ("release", "1.0.0", T)])
    s.condition_table("semver-lte-2.0.0", cond("semver_lte", "v", "2.0.0"), [
        ("equal", "2.0.0", T), ("prerelease of it", "2.0.0-rc.1", T),
        ("major compares numerically", "10.0.0", F), ("build ignored", "2.0.0+zzz", T),
        ("lower", "1.99.99", T)])
    s.condition_table("semver-gt-1.9.0", cond("semver_gt", "v", "1.9.0"), [
        ("minor compares numerically", "1.10.0", T), ("equal", "1.9.0", F)])
    s.condition_table("semver-lt-numeric-vs-alpha", cond("semver_lt", "v", "1.0.0-a"), [
        ("numeric identifier sorts first", "1.0.0-1", T), ("hyphen sorts before letters", "1.0.0--", T)])
    s.condition_table("semver-lt-alpha.0", cond("semver_lt", "v", "1.0.0-alpha.0"), [
        ("shorter prerelease sorts first", "1.0.0-alpha", T), ("equal", "1.0.0-alpha.0", F)])
    s.condition_table("semver-gt-alpha.9", cond("semver_gt", "v", "1.0.0-alpha.9"), [
        ("alpha.10 is numerically greater", "1.0.0-alpha.10", T)])


def times(s):
    jan1 = "2026-01-01T00:00:00Z"  # 1767225600 s
    s.condition_table("before", cond("before", "v", jan1), [
        ("one second earlier", "2025-12-31T23:59:59Z", T), ("equal", jan1, F),
        ("equal with offset", "2026-01-01T01:00:00+01:00", F),
        ("earlier with offset", "2026-01-01T00:59:59+01:00", T),
        ("lowercase t and z", "2025-12-31t23:59:59.999z", T),
        ("fraction truncated to ms", "2025-12-31T23:59:59.9999999Z", T),
        ("nine fraction digits", "2025-12-31T23:59:59.999999999Z", T),
        ("ten fraction digits not comparable", "2025-12-31T23:59:59.1234567890Z", F),
        ("leap second refused", "2025-12-31T23:59:60Z", F),
        ("space instead of T refused", "2025-12-31 23:59:59Z", F),
        ("month 13 refused", "2025-13-01T00:00:00Z", F),
        ("hour 24 refused", "2025-12-31T24:00:00Z", F),
        ("missing offset refused", "2025-12-31T23:59:59", F),
        ("date only refused", "2025-12-31", F),
        ("leap day", "2024-02-29T12:00:00Z", T),
        ("year 0000", "0000-01-01T00:00:00Z", T),
        ("not a time", "yesterday", F), ("bool", True, F), ("missing", ABSENT, F),
        ("epoch seconds earlier", 1767225599, T), ("epoch seconds equal", 1767225600, F),
        ("epoch seconds with fraction", 1767225599.5, T),
        ("epoch seconds fraction just below", 1767225599.9990234375, T),
        ("epoch seconds float equal", 1767225600.0, F),
        ("array any element", ["2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z"], T)])
    s.condition_table("after", cond("after", "v", jan1), [
        ("one ms later", "2026-01-01T00:00:00.001Z", T),
        ("sub-ms later truncates to equal", "2026-01-01T00:00:00.0009Z", F),
        ("epoch seconds with fraction", 1767225600.5, T), ("epoch seconds equal", 1767225600, F),
        ("far future", "2099-01-01T00:00:00Z", T), ("year 9999", "9999-12-31T23:59:59Z", T),
        ("earlier", "2025-06-01T00:00:00Z", F),
        ("later with negative offset", "2025-12-31T23:00:00-01:01", T),
        ("last second of year 9999", 253402300799, T), ("past year 9999 not comparable", 253402300800, F),
        ("last second of year 9999 as a float", 253402300799.5, T),
        ("Unix milliseconds not comparable", 1767225600001, F),
        ("Unix milliseconds as a float not comparable", 1767225600001.0, F)])
    s.condition_table("after-negate", cond("after", "v", jan1, negate=True), [
        ("earlier", 1767225599, T), ("Unix milliseconds never match", 1767225600001, F),
        ("below year 0000 never matches", -62167219201, F)])
    s.condition_table("before-year-0000", cond("before", "v", "0000-01-01T00:00:01Z"), [
        ("first second of year 0000", -62167219200, T), ("before year 0000 not comparable", -62167219201, F),
        ("float just before year 0000 not comparable", -62167219200.5, F)])
    s.condition_table("after-truncated", cond("after", "v", "2025-12-31T23:59:59.999Z"), [
        ("more fraction digits truncate to equal", "2025-12-31T23:59:59.9999999Z", F),
        ("next ms", "2026-01-01T00:00:00Z", T)])
    s.condition_table("before-epoch", cond("before", "v", "1970-01-01T00:00:00Z"), [
        ("-2^-10 s truncates toward zero to 0 ms", -0.0009765625, F), ("-1 s", -1, T),
        ("-0.5 s", -0.5, T), ("0", 0, F), ("negative zero", -0.0, F),
        ("one ms before", "1969-12-31T23:59:59.999Z", T)])
    s.condition_table("after-epoch-minus-1ms", cond("after", "v", "1969-12-31T23:59:59.999Z"), [
        ("-2^-10 s is 0 ms", -0.0009765625, T), ("0", 0, T), ("-0.001 s is -1 ms", -0.001, F)])
    s.condition_table("before-offset-value", cond("before", "v", "2026-01-01T00:00:00+14:00"), [
        ("equal instant", "2025-12-31T10:00:00Z", F), ("one second earlier", "2025-12-31T09:59:59Z", T)])
    s.condition_table("before-negate", cond("before", "v", jan1, negate=True), [
        ("later", "2027-01-01T00:00:00Z", T), ("earlier", "2025-01-01T00:00:00Z", F),
        ("garbage never matches", "garbage", F), ("missing never matches", ABSENT, F)])


def presence(s):
    s.condition_table("exists", cond("exists", "v"), [
        ("string", "x", T), ("empty string", "", T), ("zero", 0, T), ("false", False, T),
        ("object", {}, T), ("null", None, F), ("missing", ABSENT, F)])
    s.condition_table("missing", cond("missing", "v"), [
        ("missing", ABSENT, T), ("null", None, T), ("string", "x", F), ("false", False, F)])
    s.condition_table("exists-negate", cond("exists", "v", negate=True), [
        ("missing", ABSENT, T), ("null", None, T), ("present", "x", F)])
    s.condition_table("missing-negate", cond("missing", "v", negate=True), [
        ("present", "x", T), ("null", None, F), ("missing", ABSENT, F)])


def paths(s):
    s.context_table("path-nested", cond("ends_with", "user.email", "@acme.com"), [
        ("nested objects", {"user": {"email": "a@acme.com"}}, T),
        ("exact top-level name", {"user.email": "a@acme.com"}, T),
        ("exact top-level name wins over nesting",
         {"user.email": "a@other.com", "user": {"email": "a@acme.com"}}, F),
        ("exact top-level name wins (reverse)",
         {"user.email": "a@acme.com", "user": {"email": "a@other.com"}}, T),
        ("path meets a string", {"user": "a@acme.com"}, F),
        ("path meets an array", {"user": [{"email": "a@acme.com"}]}, F),
        ("wrong type at the end", {"user": {"email": 5}}, F),
        ("missing member", {"user": {"mail": "a@acme.com"}}, F),
        ("empty context", {}, F)])
    s.context_table("path-deep", cond("equals", "user.address.country", "NZ"), [
        ("three levels", {"user": {"address": {"country": "NZ"}}}, T),
        ("dotted prefix is not a top-level match", {"user.address": {"country": "NZ"}}, F),
        ("dotted inner member is not split", {"user": {"address.country": "NZ"}}, F),
        ("exact top-level name", {"user.address.country": "NZ"}, T)])
    s.context_table("path-exists-negate", cond("exists", "user.email", negate=True), [
        ("path meets a string", {"user": "x"}, T), ("present", {"user": {"email": "x"}}, F)])
    s.context_table("targeting-key-attr", cond("starts_with", "targetingKey", "admin-"), [
        ("targeting key matches", {"targetingKey": "admin-7"}, T),
        ("targeting key differs", {"targetingKey": "user-7"}, F),
        ("no targeting key", {"role": "admin-7"}, F)])
    s.context_table("targeting-key-exists", cond("exists", "targetingKey"), [
        ("present", {"targetingKey": "u"}, T), ("empty string is present", {"targetingKey": ""}, T),
        ("absent", {"x": 1}, F)])


def build():
    s = CaseSet()
    for group in (equality, membership, strings, regexes, numbers, semvers, times, presence, paths):
        group(s)
    return s
