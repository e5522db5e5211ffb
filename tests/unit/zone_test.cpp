// Zone files: the positioned JSON reader, names, the validation corpus in
// tests/data/zones/invalid, the compiled model, and every shipped example.
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <tuple>
#include <sstream>
#include <unistd.h>

#include "dnsd/config/config.hpp"
#include "dnsd/json/fields.hpp"
#include "dnsd/json/json.hpp"
#include "dnsd/zone/load.hpp"
#include "dnsd/zone/name.hpp"
#include "expect_file.hpp"

namespace fs = std::filesystem;
using namespace dnsd;

namespace {

// A config without regions.
constexpr zone::RegionNames no_regions;

// The corpus and the model tests name regions "eu" and "us".
constexpr std::string_view eu_and_us_names[] = {"eu", "us"};
constexpr zone::RegionNames eu_and_us = eu_and_us_names;

// The default config's regions.
zone::RegionNames default_regions() {
    static const config::Config config = config::defaults();
    static const std::vector<std::string_view> names = config.region_names();
    return names;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string all(const core::Diagnostics& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics) out += d.to_string() + "\n";
    return out;
}

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// A scratch directory removed at the end of the test.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& label) {
        path = fs::temp_directory_path() / ("dnsd-zone-test-" + std::to_string(::getpid()) + "-" + label);
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    fs::path write(const std::string& name, std::string_view text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return path / name;
    }
};

}  // namespace

TEST_CASE("json: values and keys carry their line and column") {
    core::Diagnostics diagnostics;
    const json::Text text("{\"a\": 12,\n  \"b\": [true, -3.5, \"x\"],\"c\":{\"d\":7}}", "t.json");
    auto doc = json::parse(text, diagnostics);
    REQUIRE(doc);
    CHECK(diagnostics.empty());
    REQUIRE(doc->members.size() == 3);
    auto at = [&text](json::Offset offset) {
        const json::Position p = text.position(offset);
        return std::pair{p.line, p.column};
    };
    CHECK(at(doc->position) == std::pair{1u, 1u});
    CHECK(at(doc->members[0].key_position) == std::pair{1u, 2u});
    CHECK(at(doc->members[0].value.position) == std::pair{1u, 7u});
    CHECK(doc->members[0].value.integer == 12);
    const auto& b = doc->members[1];
    CHECK(at(b.key_position) == std::pair{2u, 3u});
    CHECK(at(b.value.position) == std::pair{2u, 8u});
    REQUIRE(b.value.items.size() == 3);
    CHECK(at(b.value.items[1].position) == std::pair{2u, 15u});
    CHECK(b.value.items[1].kind == json::Kind::real);
    CHECK(at(b.value.items[2].position) == std::pair{2u, 21u});
    // A key right after "]," with no space, and a number right before '}'.
    CHECK(at(doc->members[2].key_position) == std::pair{2u, 26u});
    CHECK(at(doc->members[2].value.members[0].value.position) == std::pair{2u, 35u});
    // Past the last newline, and the end of the text.
    CHECK(at(static_cast<json::Offset>(text.view().size())) == std::pair{2u, 38u});
}

TEST_CASE("json: a text with room for the parser's padding is read where it is") {
    std::string padded = "[1]";
    padded.reserve(padded.size() + json::padding);
    const char* bytes = padded.data();
    const json::Text text(std::move(padded), "t.json");
    CHECK(text.view().data() == bytes);
    CHECK(text.view() == "[1]");
    const json::Text tight(std::string("[2]"), "t.json");
    CHECK(tight.capacity() >= tight.view().size() + json::padding);
    core::Diagnostics diagnostics;
    CHECK(json::parse(text, diagnostics));
    CHECK(json::parse(tight, diagnostics));
    CHECK(diagnostics.empty());
}

TEST_CASE("json: malformed input and duplicate keys are located") {
    core::Diagnostics diagnostics;
    CHECK_FALSE(json::parse(json::Text("{\n  \"a\": 1,\n  \"b\" 2\n}", "t.json"), diagnostics));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].line == 3);
    CHECK(diagnostics[0].column == 7);
    CHECK(diagnostics[0].message.rfind("malformed JSON: ", 0) == 0);
    CHECK(diagnostics[0].message.find("json.exception") == std::string::npos);

    diagnostics.clear();
    auto doc = json::parse(json::Text("{\"a\": 1, \"a\": {\"x\": 2}}", "t.json"), diagnostics);
    REQUIRE(doc);
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].column == 10);
    CHECK(diagnostics[0].message.find("duplicate key \"a\"") != std::string::npos);
    REQUIRE(doc->members.size() == 1);  // the first is kept
    CHECK(doc->members[0].value.integer == 1);

    diagnostics.clear();
    CHECK_FALSE(json::parse(json::Text("", "t.json"), diagnostics));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].line == 1);
}

TEST_CASE("json: more than 64 levels of lists and objects are refused where the 65th opens") {
    // 64 lists, then an object: the object is one level too deep.
    const std::string lists = std::string(64, '[') + "{}" + std::string(64, ']');
    // 64 objects, one per line, then a 65th.
    std::string objects;
    for (int i = 0; i < 64; ++i) objects += "{\"a\":\n";
    objects += "{}" + std::string(64, '}');
    for (const auto& [text, line, column] : {std::tuple{lists, 1u, 65u}, std::tuple{objects, 65u, 1u}}) {
        core::Diagnostics diagnostics;
        CHECK_FALSE(json::parse(json::Text(text, "t.json"), diagnostics));
        REQUIRE(diagnostics.size() == 1);
        CHECK(diagnostics[0].to_string() == "t.json:" + std::to_string(line) + ":" + std::to_string(column) +
                                                ": nested too deep: more than 64 levels of lists and objects; "
                                                "flatten the document");
    }
    // Unclosed, far deeper: the same, at the 65th.
    core::Diagnostics diagnostics;
    CHECK_FALSE(json::parse(json::Text(std::string(100000, '['), "t.json"), diagnostics));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].column == 65);
    CHECK(diagnostics[0].message.rfind("nested too deep", 0) == 0);
    // 64 levels are fine, in a deferred object too.
    diagnostics.clear();
    const std::string deepest = std::string(63, '[') + "{}" + std::string(63, ']');
    CHECK(json::parse(json::Text(deepest, "t.json"), diagnostics));
    // The root and "records" are two levels; "a" starts at column 19.
    auto records = [](size_t lists) {
        return "{\"records\": {\"a\": " + std::string(lists, '[') + "{}" + std::string(lists, ']') + "}}";
    };
    CHECK(json::parse(json::Text(records(61), "t.json"), diagnostics, "records"));
    CHECK(diagnostics.empty());
    CHECK_FALSE(json::parse(json::Text(records(62), "t.json"), diagnostics, "records"));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].column == 19 + 62);
}

namespace {

// Every value of a tree, positions included, as one line each.
void describe_tree(const json::Text& text, const json::Value& value, std::string& out) {
    auto at = [&text](json::Offset offset) {
        const json::Position p = text.position(offset);
        return std::to_string(p.line) + ":" + std::to_string(p.column);
    };
    out += at(value.position) + " " + std::string(json::describe(value.kind)) + " " + std::to_string(value.integer) +
           " " + std::to_string(value.real) + " " + (value.boolean ? "true " : "") + value.string + "\n";
    for (const auto& item : value.items) describe_tree(text, item, out);
    for (const auto& member : value.members) {
        out += at(member.key_position) + " key " + member.key + "\n";
        describe_tree(text, member.value, out);
    }
}

// Parses `text` with its "records" object deferred, reads the members back
// into the tree, and checks that the tree and the diagnostics are those of
// parsing the text whole. Returns those diagnostics, and how the object was
// deferred.
std::pair<core::Diagnostics, json::Value::Deferred> read_deferred_as_whole(const json::Text& text) {
    core::Diagnostics whole_diagnostics, deferred_diagnostics;
    auto whole = json::parse(text, whole_diagnostics);
    auto deferred = json::parse(text, deferred_diagnostics, "records");
    REQUIRE(whole);
    REQUIRE(deferred);
    auto records = std::find_if(deferred->members.begin(), deferred->members.end(),
                                [](const json::Member& member) { return member.key == "records"; });
    REQUIRE(records != deferred->members.end());
    CHECK(records->value.members.empty());
    const json::Value::Deferred how = records->value.deferred;
    std::vector<json::Member> read;
    json::for_each_member(records->value, text, deferred_diagnostics,
                          [&](const json::Member& member) { read.push_back(member); });
    records->value.members = read;
    records->value.deferred = {};
    std::string expected, got;
    describe_tree(text, *whole, expected);
    describe_tree(text, *deferred, got);
    CHECK(got == expected);
    auto sorted = [](core::Diagnostics diagnostics) {
        std::sort(diagnostics.begin(), diagnostics.end(), [](const auto& a, const auto& b) {
            return std::tie(a.line, a.column) < std::tie(b.line, b.column);
        });
        return all(diagnostics);
    };
    CHECK(sorted(deferred_diagnostics) == sorted(whole_diagnostics));
    return {whole_diagnostics, how};
}

}  // namespace

TEST_CASE("json: strings, escapes, numbers and literals") {
    core::Diagnostics diagnostics;
    auto doc = json::parse(
        json::Text("[\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\ud83d\\ude00\", \"\xc3\xa9\", -0, 123456789012345678, "
                   "1.5e3, 0.25, true, false, null]",
                   "t.json"),
        diagnostics);
    REQUIRE(doc);
    CHECK(diagnostics.empty());
    REQUIRE(doc->items.size() == 10);
    CHECK(doc->items[0].string == "a\"\\/\b\f\n\r\t");
    CHECK(doc->items[1].string == "\xc3\xa9\xf0\x9f\x98\x80");
    CHECK(doc->items[2].string == "\xc3\xa9");
    CHECK(doc->items[3].kind == json::Kind::integer);
    CHECK(doc->items[4].integer == 123456789012345678);
    CHECK(doc->items[5].kind == json::Kind::real);
    CHECK(doc->items[5].real == 1500);
    CHECK(doc->items[6].real == 0.25);
    CHECK(doc->items[7].boolean);
    CHECK(doc->items[9].kind == json::Kind::null);

    // A byte order mark is skipped, as nlohmann's parser does; integers
    // beyond 64 bits are reals, as nlohmann reads them; numbers that
    // underflow are 0.
    diagnostics.clear();
    const json::Text big("\xef\xbb\xbf[12345678901234567890, -1234567890123456789, 1e-400, 123456789012345678901234567890, "
                         "-9223372036854775809]",
                         "t.json");
    doc = json::parse(big, diagnostics);
    REQUIRE(doc);
    CHECK(diagnostics.empty());
    REQUIRE(doc->items.size() == 5);
    CHECK(doc->items[0].integer == std::numeric_limits<int64_t>::max());
    CHECK(doc->items[0].real == 12345678901234567890.0);
    CHECK(doc->items[1].integer == -1234567890123456789);
    CHECK(doc->items[2].real == 0);
    CHECK(big.position(doc->items[2].position).column == 49);
    CHECK(doc->items[3].kind == json::Kind::real);
    CHECK(doc->items[3].real == 123456789012345678901234567890.0);
    CHECK(doc->items[4].kind == json::Kind::real);
    CHECK(doc->items[4].real == -9223372036854775809.0);

    // A document that is a single value.
    for (const auto& [text, kind] : {std::pair{" 12 ", json::Kind::integer}, std::pair{"\"x\"", json::Kind::string},
                                     std::pair{"true", json::Kind::boolean}, std::pair{"null", json::Kind::null},
                                     std::pair{"-1.5", json::Kind::real}}) {
        diagnostics.clear();
        doc = json::parse(json::Text(text, "t.json"), diagnostics);
        REQUIRE(doc);
        CHECK(doc->kind == kind);
        CHECK(doc->position == (text[0] == ' ' ? 1u : 0u));
    }

    // Malformed in ways a lenient parser could let through: each is one
    // diagnostic, worded by nlohmann.
    for (const char* text :
         {"[01]", "[1.]", "[.5]", "[1e]", "[-]", "[\"\t\"]", "[\"\\x\"]", "[\"\\ud800\"]", "[\"\\udc00\"]",
          "[\"\xc0\x80\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[1,]", "{\"a\":1,}", "[tru]", "[nul]",
          "[1] x", "[1e400]", "[1,,2]", "{\"a\"}", "{\"a\":1 \"b\":2}", "[1}", "{}}", "[[]", "nul", "\"x\" 1", "12 x",
          "[\"a", " "}) {
        INFO(text);
        diagnostics.clear();
        CHECK_FALSE(json::parse(json::Text(text, "t.json"), diagnostics));
        REQUIRE(diagnostics.size() == 1);
        CHECK(diagnostics[0].message.rfind("malformed JSON: ", 0) == 0);
        CHECK(diagnostics[0].line == 1);
    }
}

TEST_CASE("json: a deferred object reads as the same members, with its duplicate keys reported") {
    const json::Text text(
        "{\"records\": {\n"
        "  \"a\": {\"A\": [\"1\"], \"A\": 2},\n"
        "  \"b\\u0041\": [1, {\"x\": 1, \"x\": 2}],\n"
        "  \"bA\": 3,\n"
        "  \"a\": 4},\n"
        " \"records\": {\"z\": 1}, \"zone\": \"x\"}",
        "t.json");
    const auto [diagnostics, deferred] = read_deferred_as_whole(text);
    CHECK(deferred.members == 4);
    CHECK(diagnostics.size() == 5);  // A, x, bA, a, and the second "records"
}

TEST_CASE("json: a deferred object of many runs reads as the same members, duplicates across runs too") {
    // 10,000 members: plain keys, escaped ones, and duplicates of earlier
    // runs' keys, with blanks of every kind around the commas.
    std::string text = "{\"zone\": \"x\", \"records\": {";
    const char* separators[] = {",", " ,\n  ", "\t,\r\n", "\n,"};
    std::set<std::string> keys;  // as read
    size_t duplicates = 0;
    for (int i = 0; i < 10000; ++i) {
        std::string written = "k" + std::to_string(i), read = written;
        if (i % 1000 == 999) written = read = "k" + std::to_string(i / 3);  // a duplicate, mostly
        if (i % 777 == 0) {
            written = "\\u006b" + std::to_string(i) + "\\\"";
            read = "k" + std::to_string(i) + "\"";
        }
        if (i == 9001) written = "\\u006b7", read = "k7";  // an escaped duplicate
        duplicates += !keys.insert(read).second;
        if (i > 0) text += separators[i % 4];
        text += "\"" + written + "\": " + (i % 2 ? "[" + std::to_string(i) + ", {\"a\": true}]" : std::to_string(i));
    }
    REQUIRE(duplicates >= 5);
    text += " \n}, \"pools\": {}}";
    const auto [diagnostics, deferred] = read_deferred_as_whole(json::Text(text, "t.json"));
    CHECK(deferred.members == 10000);
    CHECK(deferred.runs.size() == 3);
    CHECK(diagnostics.size() == duplicates);
}

TEST_CASE("zone: records ahead of \"zone\" in the file load the same") {
    const std::string records =
        "\"records\": {\"@\": {\"NS\": [\"ns1\"]}, \"ns1\": {\"A\": [\"192.0.2.53\"]}, \"www\": {\"pool\": \"web\"}}";
    const std::string rest =
        "\"zone\": \"demo.example\", \"soa\": {\"mname\": \"ns1\", \"rname\": \"hostmaster\", \"serial\": 7}, "
        "\"pools\": {\"web\": {\"members\": [{\"address\": \"192.0.2.10\"}]}}";
    for (const std::string& text : {"{" + records + ", " + rest + "}", "{" + rest + ", " + records + "}"}) {
        core::Diagnostics diagnostics;
        auto zone = zone::load_zone(text, "demo.example.json", no_regions, diagnostics);
        INFO(all(diagnostics));
        REQUIRE(zone);
        CHECK(zone->nodes().size() == 3);
        const std::string www("\3www\4demo\7example\0", 18);
        REQUIRE(zone->find(www));
        CHECK(zone->find(www)->pool == 0);
        CHECK(zone->apex_node().find(zone::rrtype::NS));
        CHECK(zone->apex_node().find(zone::rrtype::SOA));
    }
}

TEST_CASE("fields: the nearest known word is suggested") {
    constexpr std::string_view words[] = {"policy", "max_answers", "ttl", "members"};
    CHECK(json::nearest("tll", words) == "ttl");
    CHECK(json::nearest("MEMBER", words) == "members");
    CHECK(json::suggest("polcy", words) == "; did you mean \"policy\"?");
    CHECK(json::suggest("zzzzzzzzzz", words).find("; use one of: \"policy\"") == 0);
}

TEST_CASE("names: relative, absolute, apex, case, limits") {
    const std::string origin("\4demo\7example\0", 14);
    std::string problem;
    CHECK(zone::to_wire("@", origin, problem) == origin);
    CHECK(zone::to_wire("WWW", origin, problem) == std::string("\3www\4demo\7example\0", 18));
    CHECK(zone::to_wire("Mail.Example.NET.", origin, problem) == std::string("\4mail\7example\3net\0", 18));
    CHECK(zone::to_wire(".", origin, problem) == std::string(1, '\0'));
    CHECK(zone::to_wire("*.cdn", origin, problem) == std::string("\1*\3cdn\4demo\7example\0", 20));
    CHECK_FALSE(zone::to_wire("a.*", origin, problem));
    CHECK_FALSE(zone::to_wire("", origin, problem));
    CHECK(problem.find("\"@\"") != std::string::npos);
    CHECK(zone::to_wire(std::string(63, 'a'), origin, problem));
    CHECK_FALSE(zone::to_wire(std::string(64, 'a'), origin, problem));
    // 4 labels of 62 octets plus the root make 253 octets; the origin pushes it over 255.
    std::string long_name = std::string(62, 'a') + "." + std::string(62, 'b') + "." + std::string(62, 'c') + "." +
                            std::string(62, 'd');
    CHECK(zone::to_wire(long_name + ".", origin, problem));
    CHECK_FALSE(zone::to_wire(long_name, origin, problem));
    CHECK(zone::to_text(origin) == "demo.example.");
    CHECK(zone::is_at_or_below(std::string("\3www\4demo\7example\0", 18), origin));
    CHECK_FALSE(zone::is_at_or_below(std::string("\5xdemo\7example\0", 15), origin));
}

TEST_CASE("validation corpus: every invalid zone reports exactly its diagnostics") {
    const fs::path dir = fs::path(DNSD_SOURCE_DIR) / "tests/data/zones/invalid";
    size_t cases = 0;
    std::vector<fs::path> expects;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".expect") expects.push_back(entry.path());
    std::sort(expects.begin(), expects.end());
    for (const auto& expect : expects) {
        fs::path base = expect;
        base.replace_extension();
        DYNAMIC_SECTION(base.filename().string()) {
            ++cases;
            core::Diagnostics diagnostics;
            if (fs::is_directory(base)) {
                zone::DirectoryLoad load = zone::load_directory(base.string(), eu_and_us);
                diagnostics = load.diagnostics;
            } else {
                fs::path file = base;
                file += ".json";
                REQUIRE(fs::exists(file));
                CHECK_FALSE(zone::load_zone_file(file.string(), eu_and_us, diagnostics));
                for (const auto& d : diagnostics) CHECK(d.file == file.string());
            }
            test::check_expectations(diagnostics, expect.string());
        }
    }
    CHECK(expects.size() >= 60);
    CHECK(cases >= 1);
}

TEST_CASE("validation: with no regions configured every region is undefined") {
    core::Diagnostics diagnostics;
    auto text = read_text(fs::path(DNSD_SOURCE_DIR) / "tests/data/zones/valid/regions.example.json");
    CHECK(zone::load_zone(text, "regions.example.json", eu_and_us, diagnostics));
    CHECK(all(diagnostics).empty());
    CHECK_FALSE(zone::load_zone(text, "regions.example.json", no_regions, diagnostics));
    REQUIRE(diagnostics.size() == 2);
    CHECK(diagnostics[0].message.find("the config has no \"regions\"") != std::string::npos);
}

namespace {

constexpr std::string_view model_zone = R"({
  "zone": "Model.Example.",
  "ttl": 60,
  "soa": { "mname": "ns1", "rname": "admin.example.net.", "serial": 7,
           "refresh": 1, "retry": 2, "expire": 3, "minimum": 40 },
  "records": {
    "@":       { "NS": ["ns1"], "MX": [{ "preference": 10, "exchange": "MX" }],
                 "CAA": [{ "flags": 128, "tag": "issue", "value": "ca.net" }] },
    "ns1":     { "A": ["192.0.2.1", "192.0.2.2"], "AAAA": ["2001:db8::1"], "ttl": 100 },
    "WWW":     { "pool": "web", "ttl": 5 },
    "app":     { "pool": "web" },
    "other":   { "pool": "plain" },
    "a.b.c":   { "TXT": ["hi", ["x", ""]] },
    "_s._tcp": { "SRV": [{ "priority": 1, "weight": 2, "port": 443, "target": "www" }] },
    "alias":   { "CNAME": "www" },
    "ptr":     { "PTR": ["www.example.net."] },
    "sub":     { "NS": ["ns.sub"] },
    "ns.sub":  { "A": ["192.0.2.9"] },
    "*.wild":  { "pool": "web" }
  },
  "pools": {
    "web": { "policy": "sticky", "ttl": 20, "max_answers": 2, "members": [
      { "address": "192.0.2.10", "region": "us" },
      { "address": "2001:db8::10" },
      { "address": "192.0.2.11", "weight": 3, "priority": 2, "state": "down", "port": 8080 } ] },
    "plain": { "check": { "type": "http", "path": "/h", "expect_status": [200, "300-302"],
                          "interval": 1.5, "timeout": 0.5 },
               "members": [{ "address": "127.0.0.1" }] }
  }
})";

const std::string apex("\5model\7example\0", 15);
// `relative` in wire form, in the model zone.
std::string in_model(std::string_view relative) {
    std::string problem;
    return *zone::to_wire(relative, apex, problem);
}

std::shared_ptr<const zone::Zone> load_model() {
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(model_zone, "model.example.json", eu_and_us, diagnostics, 99);
    INFO(all(diagnostics));
    REQUIRE(zone);
    return zone;
}

const zone::Node& node(const zone::Zone& zone, std::string_view relative) {
    const zone::Node* n = zone.find(in_model(relative));
    INFO(relative);
    REQUIRE(n);
    return *n;
}

}  // namespace

TEST_CASE("compile: zone header, SOA and the negative TTL") {
    auto zone = load_model();
    CHECK(zone->name == "model.example");
    CHECK(zone->apex == apex);
    CHECK(zone->file == "model.example.json");
    CHECK(zone->serial == 7);  // explicit serial wins over the auto serial
    CHECK(zone->negative_ttl == 40);

    const zone::Node& top = zone->apex_node();
    std::vector<uint16_t> types;
    for (const auto& rrset : top.rrsets) types.push_back(rrset.type);
    CHECK(types == std::vector<uint16_t>{zone::rrtype::NS, zone::rrtype::SOA, zone::rrtype::MX, zone::rrtype::CAA});
    const zone::RRset* soa = top.find(zone::rrtype::SOA);
    REQUIRE(soa);
    CHECK(soa->ttl == 60);
    REQUIRE(soa->rdatas.size() == 1);
    const zone::Rdata& r = soa->rdatas[0];
    std::string mname = in_model("ns1"), rname = in_model("admin.example.net.");
    std::string expected = mname + rname + std::string("\0\0\0\7\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\x28", 20);
    CHECK(r.wire == bytes(expected));
    CHECK(r.name_count == 2);
    CHECK(r.name_offsets[0] == 0);
    CHECK(r.name_offsets[1] == mname.size());
    CHECK_FALSE(top.delegation);
}

TEST_CASE("compile: rdata wire form") {
    auto zone = load_model();
    const zone::Node& top = zone->apex_node();

    const zone::Rdata& mx = top.find(zone::rrtype::MX)->rdatas.at(0);
    CHECK(mx.wire == bytes(std::string("\0\x0a", 2) + in_model("mx")));
    CHECK(mx.name_count == 1);
    CHECK(mx.name_offsets[0] == 2);

    const zone::Rdata& caa = top.find(zone::rrtype::CAA)->rdatas.at(0);
    CHECK(caa.wire == bytes(std::string("\x80\x05issueca.net")));
    CHECK(caa.name_count == 0);

    const zone::Rdata& ns = top.find(zone::rrtype::NS)->rdatas.at(0);
    CHECK(ns.wire == bytes(in_model("ns1")));
    CHECK(ns.name_count == 1);

    const zone::RRset* a = node(*zone, "ns1").find(zone::rrtype::A);
    REQUIRE(a);
    REQUIRE(a->rdatas.size() == 2);
    CHECK(a->rdatas[0].wire == std::vector<uint8_t>{192, 0, 2, 1});
    CHECK(a->rdatas[1].wire == std::vector<uint8_t>{192, 0, 2, 2});
    const zone::RRset* aaaa = node(*zone, "ns1").find(zone::rrtype::AAAA);
    REQUIRE(aaaa);
    CHECK(aaaa->rdatas.at(0).wire ==
          std::vector<uint8_t>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

    const zone::RRset* txt = node(*zone, "a.b.c").find(zone::rrtype::TXT);
    REQUIRE(txt);
    REQUIRE(txt->rdatas.size() == 2);
    CHECK(txt->rdatas[0].wire == bytes("\2hi"));
    CHECK(txt->rdatas[1].wire == bytes(std::string("\1x\0", 3)));

    const zone::Rdata& srv = node(*zone, "_s._tcp").find(zone::rrtype::SRV)->rdatas.at(0);
    CHECK(srv.wire == bytes(std::string("\0\1\0\2\1\xbb", 6) + in_model("www")));
    CHECK(srv.name_count == 0);  // RFC 2782: never compressed

    const zone::Rdata& cname = node(*zone, "alias").find(zone::rrtype::CNAME)->rdatas.at(0);
    CHECK(cname.wire == bytes(in_model("www")));
    CHECK(cname.name_count == 1);
    const zone::Rdata& ptr = node(*zone, "ptr").find(zone::rrtype::PTR)->rdatas.at(0);
    CHECK(ptr.wire == bytes(std::string("\3www\7example\3net\0", 17)));
}

TEST_CASE("compile: empty non-terminals, delegations, wildcards") {
    auto zone = load_model();
    for (std::string_view ent : {"b.c", "c", "_tcp", "wild"}) {
        const zone::Node& n = node(*zone, ent);
        CHECK(n.empty());
        CHECK(n.name == in_model(ent));
    }
    CHECK(node(*zone, "sub").delegation);
    CHECK_FALSE(node(*zone, "ns.sub").delegation);
    CHECK(node(*zone, "ns.sub").find(zone::rrtype::A));
    CHECK(node(*zone, "*.wild").pool == 0);
    CHECK(zone->find(in_model("nothing")) == nullptr);
    // 12 owners plus 4 empty non-terminals.
    CHECK(zone->nodes().size() == 16);
}

TEST_CASE("compile: TTLs resolve record, then pool, then zone") {
    auto zone = load_model();
    CHECK(node(*zone, "ns1").find(zone::rrtype::A)->ttl == 100);
    CHECK(node(*zone, "alias").find(zone::rrtype::CNAME)->ttl == 60);
    CHECK(node(*zone, "www").pool_ttl == 5);
    CHECK(node(*zone, "app").pool_ttl == 20);
    CHECK(node(*zone, "other").pool_ttl == 60);
    REQUIRE(zone->pools.size() == 2);
    CHECK(zone->pools[0].ttl == 20);
    CHECK(zone->pools[0].degraded_ttl == 20);
    CHECK(zone->pools[1].ttl == 60);
}

TEST_CASE("compile: pools, members and checks") {
    auto zone = load_model();
    const zone::Pool& web = zone->pools.at(0);
    CHECK(web.name == "web");
    CHECK(web.policy == zone::Policy::sticky);
    CHECK(web.max_answers == 2);
    CHECK(web.v4 == std::vector<uint32_t>{0, 2});
    CHECK(web.v6 == std::vector<uint32_t>{1});
    CHECK(web.uses_geo);
    REQUIRE(web.members.size() == 3);
    CHECK(web.members[0].region == 1);
    CHECK(web.members[1].region == -1);
    CHECK(web.members[0].weight == 1);
    const zone::Member& m = web.members[2];
    CHECK(m.address.to_string() == "192.0.2.11");
    CHECK(m.weight == 3);
    CHECK(m.priority == 2);
    CHECK(m.state == zone::MemberState::down);
    CHECK(m.port == 8080);
    CHECK(m.health_slot == UINT32_MAX);
    CHECK(web.check.type == zone::Check::Type::none);
    CHECK(node(*zone, "www").pool == 0);
    CHECK(node(*zone, "other").pool == 1);

    const zone::Pool& plain = zone->pools.at(1);
    CHECK(plain.policy == zone::Policy::round_robin);
    CHECK_FALSE(plain.uses_geo);
    CHECK(plain.check.type == zone::Check::Type::http);
    CHECK(plain.check.path == "/h");
    CHECK(plain.check.interval_ms == 1500);
    CHECK(plain.check.timeout_ms == 500);
    CHECK(plain.check.rise == 2);
    CHECK(plain.check.fall == 3);
    CHECK(plain.check.expect_status == std::vector<std::pair<uint16_t, uint16_t>>{{200, 200}, {300, 302}});
    CHECK(zone->max_pool_members == 3);
}

TEST_CASE("serial auto: the load_zone argument, and the file's modification time") {
    std::string text(model_zone);
    text.replace(text.find("\"serial\": 7"), 11, "\"serial\": \"auto\"");
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(text, "model.example.json", eu_and_us, diagnostics, 12345);
    REQUIRE(zone);
    CHECK(zone->serial == 12345);

    TempDir dir("serial");
    fs::path file = dir.write("model.example.json", text);
    auto set_mtime = [&](int64_t seconds) {
        auto sys = std::chrono::sys_seconds{std::chrono::seconds{seconds}};
        fs::last_write_time(file, std::chrono::file_clock::from_sys(sys));
    };
    set_mtime(1700000000);
    zone = zone::load_zone_file(file.string(), eu_and_us, diagnostics);
    REQUIRE(zone);
    CHECK(zone->serial == 1700000000u);
    set_mtime(1700000100);  // rewritten later: the serial grows
    zone = zone::load_zone_file(file.string(), eu_and_us, diagnostics);
    REQUIRE(zone);
    CHECK(zone->serial == 1700000100u);
    CHECK(diagnostics.empty());
}

TEST_CASE("read_zone_file: the text has room for the parser's padding, so that it is not copied") {
    core::Diagnostics diagnostics;
    auto content = zone::read_zone_file(DNSD_SOURCE_DIR "/zones/demo.example.json", diagnostics);
    REQUIRE(content);
    CHECK(content->text.capacity() >= content->text.size() + json::padding);
    const char* bytes = content->text.data();
    CHECK(json::Text(std::move(content->text), "demo.example.json").view().data() == bytes);
}

TEST_CASE("load_directory: good zones load beside broken ones") {
    TempDir dir("directory");
    std::string model(model_zone);
    dir.write("model.example.json", model);
    std::string small = R"({"zone": "small.example", "soa": {"mname": "ns", "rname": "h"},
        "records": {"@": {"NS": ["ns"]}, "ns": {"A": ["192.0.2.1"]}, "w": {"pool": "p"}},
        "pools": {"p": {"members": [{"address": "192.0.2.2"}]}}})";
    dir.write("small.example.json", small);
    dir.write("broken.example.json", "{\"zone\": \"broken.example\",");
    dir.write("README.md", "not a zone");
    dir.write(".model.example.json.swp", "not a zone");
    zone::DirectoryLoad load = zone::load_directory(dir.path.string(), eu_and_us);
    CHECK(load.files == 3);
    REQUIRE(load.diagnostics.size() == 1);
    CHECK(load.diagnostics[0].file == (dir.path / "broken.example.json").string());
    REQUIRE(load.snapshot);
    REQUIRE(load.snapshot->zones.size() == 2);
    CHECK(load.snapshot->max_pool_members == 3);
    CHECK(load.snapshot->find_zone(in_model("www")) != nullptr);
}

TEST_CASE("load_directory and load_zone_file: unreadable paths are diagnostics") {
    zone::DirectoryLoad load = zone::load_directory("/nonexistent/zones", default_regions());
    REQUIRE(load.snapshot);
    CHECK(load.snapshot->zones.empty());
    REQUIRE(load.diagnostics.size() == 1);
    CHECK(load.diagnostics[0].line == 0);
    core::Diagnostics diagnostics;
    CHECK_FALSE(zone::load_zone_file("/nonexistent/z.json", default_regions(), diagnostics));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].to_string().rfind("/nonexistent/z.json: cannot read", 0) == 0);
}

TEST_CASE("load_directory: a dangling link is reported by name and the scan goes on") {
    TempDir dir("dangling");
    const std::string small = R"({"zone": "%.example", "soa": {"mname": "ns", "rname": "h"},
        "records": {"@": {"NS": ["ns"]}, "ns": {"A": ["192.0.2.1"]}}})";
    for (const char* zone : {"a", "c"}) {
        std::string text = small;
        text.replace(text.find('%'), 1, zone);
        dir.write(std::string(zone) + ".example.json", text);
    }
    const fs::path link = dir.path / "b.example.json";
    fs::create_symlink(dir.path / "gone.example.json", link);

    zone::DirectoryLoad load = zone::load_directory(dir.path.string(), default_regions());
    CHECK(load.files == 3);
    REQUIRE(load.snapshot);
    CHECK(load.snapshot->zones.size() == 2);
    REQUIRE(load.diagnostics.size() == 1);
    CHECK(load.diagnostics[0].file == link.string());
    CHECK(load.diagnostics[0].message.find("link to a file that does not exist") != std::string::npos);

    // Reload reads one file at a time: a dangling link is broken, not missing.
    core::Diagnostics diagnostics;
    bool missing = true;
    CHECK_FALSE(zone::read_zone_file(link.string(), diagnostics, &missing));
    CHECK_FALSE(missing);
    CHECK(diagnostics.size() == 1);
    CHECK_FALSE(zone::read_zone_file((dir.path / "gone.example.json").string(), diagnostics, &missing));
    CHECK(missing);
    CHECK(diagnostics.size() == 1);
}

TEST_CASE("validation: an RRset must fit one DNS message") {
    // Header 12, question 18 + 4 for "big.demo.example", 28 octets per AAAA
    // record with its owner compressed: 2339 records make 65526 octets, 2340
    // make 65554. The corpus has the failing file; this pins the boundary.
    auto with_records = [](size_t count) {
        std::string text = R"({"zone": "demo.example", "soa": {"mname": "ns1", "rname": "h"},
            "records": {"@": {"NS": ["ns1"]}, "ns1": {"A": ["192.0.2.53"]}, "big": {"AAAA": [)";
        for (size_t i = 1; i <= count; ++i) {
            std::ostringstream address;
            address << (i > 1 ? "," : "") << "\"::" << std::hex << i << '"';
            text += address.str();
        }
        return text + "]}}}";
    };
    core::Diagnostics diagnostics;
    CHECK(zone::load_zone(with_records(2339), "demo.example.json", default_regions(), diagnostics));
    CHECK(all(diagnostics).empty());
    CHECK_FALSE(zone::load_zone(with_records(2340), "demo.example.json", default_regions(), diagnostics));
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].message.find("need 65554 octets") != std::string::npos);
}

TEST_CASE("examples: every zone in zones/ loads") {
    const fs::path dir = fs::path(DNSD_SOURCE_DIR) / "zones";
    zone::DirectoryLoad load = zone::load_directory(dir.string(), default_regions());
    INFO(all(load.diagnostics));
    CHECK(load.diagnostics.empty());
    CHECK(load.files >= 1);
    REQUIRE(load.snapshot);
    CHECK(load.snapshot->zones.size() == load.files);
}

TEST_CASE("examples: the demo zone has every feature it advertises") {
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone_file(DNSD_SOURCE_DIR "/zones/demo.example.json", default_regions(), diagnostics);
    INFO(all(diagnostics));
    REQUIRE(zone);
    const std::string demo("\4demo\7example\0", 14);
    auto at = [&](std::string_view name) {
        std::string problem;
        return zone->find(*zone::to_wire(name, demo, problem));
    };
    std::set<uint16_t> types;
    for (const auto& n : zone->nodes())
        for (const auto& rrset : n.rrsets) types.insert(rrset.type);
    using namespace zone::rrtype;
    CHECK(types == std::set<uint16_t>{A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, CAA});
    REQUIRE(at("www"));
    CHECK(zone->pools.at(static_cast<size_t>(at("www")->pool)).policy == zone::Policy::round_robin);
    REQUIRE(at("rr"));
    CHECK(at("rr")->find(A)->rdatas.size() >= 3);
    REQUIRE(at("sub"));
    CHECK(at("sub")->delegation);
    REQUIRE(at("ent"));
    CHECK(at("ent")->empty());
    REQUIRE(at("*.cdn"));
    CHECK(at("*.cdn")->pool >= 0);
    REQUIRE(at("*.static"));
    CHECK(at("*.static")->find(A));
    std::set<zone::Policy> policies;
    bool max_answers = false, degraded = false;
    for (const auto& pool : zone->pools) {
        policies.insert(pool.policy);
        max_answers |= pool.max_answers > 0;
        degraded |= pool.degraded_ttl != pool.ttl;
        // Probes must never reach real hosts: checks only on loopback members.
        if (pool.check.type != zone::Check::Type::none)
            for (const auto& m : pool.members) {
                bool loopback = m.address.family == core::Family::v4 ? m.address.bytes[0] == 127
                                                                     : m.address.to_string() == "::1";
                CHECK(loopback);
            }
    }
    CHECK(policies.size() == 4);
    CHECK(max_answers);
    CHECK(degraded);
    // A CNAME chain: alias → api → www.
    REQUIRE(at("alias"));
    std::string problem;
    CHECK(at("alias")->find(CNAME)->rdatas.at(0).wire == bytes(*zone::to_wire("api", demo, problem)));
}

TEST_CASE("examples: every complete zone in zones/README.md loads") {
    std::string readme = read_text(fs::path(DNSD_SOURCE_DIR) / "zones/README.md");
    size_t complete = 0;
    for (size_t at = readme.find("```json\n"); at != std::string::npos; at = readme.find("```json\n", at)) {
        at += 8;
        size_t end = readme.find("```", at);
        REQUIRE(end != std::string::npos);
        std::string block = readme.substr(at, end - at);
        at = end + 3;
        if (block.find("\"zone\"") == std::string::npos || block.find("\"soa\"") == std::string::npos) continue;
        ++complete;
        core::Diagnostics diagnostics;
        auto zone = zone::load_zone(block, "zones/README.md block " + std::to_string(complete), default_regions(),
                                    diagnostics);
        INFO(block << all(diagnostics));
        CHECK(zone);
    }
    CHECK(complete >= 1);
}

TEST_CASE("half-written files: every proper prefix of the demo zone is invalid, with a position") {
    const std::string text = read_text(fs::path(DNSD_SOURCE_DIR) / "zones/demo.example.json");
    const size_t end = text.find_last_not_of(" \n") + 1;  // the final '}'
    REQUIRE(end > 100);
    for (size_t size = 0; size < end; ++size) {
        core::Diagnostics diagnostics;
        auto zone = zone::load_zone(std::string_view(text).substr(0, size), "demo.example.json", default_regions(),
                                    diagnostics);
        INFO("prefix of " << size << " bytes");
        CHECK_FALSE(zone);
        REQUIRE(diagnostics.size() == 1);
        CHECK(diagnostics[0].line >= 1);
        CHECK(diagnostics[0].message.rfind("malformed JSON", 0) == 0);
    }
}

TEST_CASE("compile: dns and https checks") {
    constexpr std::string_view text = R"({
      "zone": "checks.example",
      "soa": { "mname": "ns", "rname": "h" },
      "records": { "@": { "NS": ["ns"] }, "ns": { "A": ["192.0.2.1"] } },
      "pools": {
        "dns": { "check": { "type": "dns", "query": "www", "query_type": "AAAA", "port": 5300 },
                 "members": [{ "address": "127.0.0.1" }] },
        "apex": { "check": { "type": "dns", "query_type": 16 }, "members": [{ "address": "127.0.0.1" }] },
        "tls": { "check": { "type": "https", "host": "svc.example", "verify_tls": true,
                            "expect_body": "ok", "expect_status": "204", "rise": 1, "fall": 5 },
                 "members": [{ "address": "::1", "port": 8443 }] }
      }
    })";
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(text, "checks.example.json", default_regions(), diagnostics);
    INFO(all(diagnostics));
    REQUIRE(zone);
    const zone::Check& dns = zone->pools.at(0).check;
    CHECK(dns.type == zone::Check::Type::dns);
    CHECK(dns.query == "www.checks.example.");
    CHECK(dns.query_type == zone::rrtype::AAAA);
    CHECK(dns.port == 5300);
    const zone::Check& apex_check = zone->pools.at(1).check;
    CHECK(apex_check.query == "checks.example.");
    CHECK(apex_check.query_type == zone::rrtype::TXT);
    CHECK(apex_check.port == 0);
    const zone::Check& tls = zone->pools.at(2).check;
    CHECK(tls.type == zone::Check::Type::https);
    CHECK(tls.host == "svc.example");
    CHECK(tls.verify_tls);
    CHECK(tls.expect_body == "ok");
    CHECK(tls.expect_status == std::vector<std::pair<uint16_t, uint16_t>>{{204, 204}});
    CHECK(tls.rise == 1);
    CHECK(tls.fall == 5);
    CHECK(tls.path == "/");
    CHECK(zone->pools.at(2).members.at(0).port == 8443);
    CHECK(zone->pools.at(2).v6 == std::vector<uint32_t>{0});
    CHECK(zone->pools.at(2).v4.empty());
}

namespace {

std::string wire_of(std::string_view text) {
    std::string problem;
    auto wire = zone::to_wire(text, "", problem);
    REQUIRE(wire);
    return *wire;
}

std::shared_ptr<const zone::Zone> zone_named(std::string_view name) {
    auto zone = std::make_shared<zone::Zone>();
    zone->name = std::string(name);
    zone->apex = wire_of(std::string(name) + ".");
    return zone;
}

// The zone find_zone picks for `name`, by name; "" for none.
std::string zone_for(const zone::Snapshot& snapshot, std::string_view name) {
    const zone::Zone* zone = snapshot.find_zone(wire_of(name));
    return zone ? zone->name : "";
}

}  // namespace

TEST_CASE("snapshot: find_zone picks the longest apex at or above the name", "[snapshot]") {
    // Nested zones with a depth between them that no apex has (c.b.demo.example).
    const zone::Snapshot snapshot(
        {zone_named("example"), zone_named("demo.example"), zone_named("a.b.demo.example"), zone_named("other.test")});
    CHECK(zone_for(snapshot, "demo.example.") == "demo.example");
    CHECK(zone_for(snapshot, "www.demo.example.") == "demo.example");
    CHECK(zone_for(snapshot, "c.b.demo.example.") == "demo.example");
    CHECK(zone_for(snapshot, "b.demo.example.") == "demo.example");
    CHECK(zone_for(snapshot, "a.b.demo.example.") == "a.b.demo.example");
    CHECK(zone_for(snapshot, "x.y.a.b.demo.example.") == "a.b.demo.example");
    CHECK(zone_for(snapshot, "elsewhere.example.") == "example");
    CHECK(zone_for(snapshot, "example.") == "example");
    CHECK(zone_for(snapshot, "www.other.test.") == "other.test");
    // A suffix of an apex is not an apex; a name that only shares a label's tail is not below one.
    CHECK(zone_for(snapshot, "test.") == "");
    CHECK(zone_for(snapshot, "ademo.example.") == "example");
    CHECK(zone_for(snapshot, "nother.test.") == "");
    CHECK(zone_for(snapshot, ".") == "");
    CHECK(snapshot.find_zone("") == nullptr);
}

TEST_CASE("snapshot: a child zone served beside its parent owns the names below the cut", "[snapshot]") {
    const zone::Snapshot snapshot({zone_named("sub.demo.example"), zone_named("demo.example")});
    CHECK(zone_for(snapshot, "host.sub.demo.example.") == "sub.demo.example");
    CHECK(zone_for(snapshot, "sub.demo.example.") == "sub.demo.example");
    CHECK(zone_for(snapshot, "host.demo.example.") == "demo.example");
    CHECK(snapshot.zone_at(wire_of("demo.example.")) == snapshot.zones[1].get());
    CHECK(snapshot.zone_at(wire_of("www.demo.example.")) == nullptr);
}

TEST_CASE("snapshot: names and apexes compare in lower case", "[snapshot]") {
    const zone::Snapshot snapshot({zone_named("Demo.EXAMPLE")});
    CHECK(zone_for(snapshot, "WWW.demo.Example.") == "Demo.EXAMPLE");
}

TEST_CASE("snapshot: the root zone holds every name no deeper apex does, and the deepest name is found", "[snapshot]") {
    auto root = std::make_shared<zone::Zone>();
    root->name = ".";
    root->apex = wire_of(".");
    std::string deep;  // 127 labels: 254 octets in text with the final dot
    for (int i = 0; i < 126; ++i) deep += "a.";
    deep += "x.";
    const zone::Snapshot snapshot({root, zone_named("x")});
    CHECK(zone_for(snapshot, ".") == ".");
    CHECK(zone_for(snapshot, "example.") == ".");
    CHECK(zone_for(snapshot, "www.demo.example.") == ".");
    CHECK(zone_for(snapshot, "x.") == "x");
    CHECK(zone_for(snapshot, deep) == "x");
    CHECK(zone_for(snapshot, "a." + deep.substr(4)) == "x");
}

TEST_CASE("snapshot: among 20,000 zones each name finds its own, and a zone named twice keeps the first", "[snapshot]") {
    std::vector<std::shared_ptr<const zone::Zone>> zones;
    for (int i = 0; i < 20000; ++i) zones.push_back(zone_named("z" + std::to_string(i) + ".example"));
    auto twice = zone_named("z5.example");
    zones.push_back(twice);
    const zone::Snapshot snapshot(zones);
    for (int i = 0; i < 20000; i += 97) {
        const std::string name = "z" + std::to_string(i) + ".example";
        CHECK(snapshot.find_zone(wire_of("pool." + name + ".")) == zones[static_cast<size_t>(i)].get());
    }
    CHECK(snapshot.find_zone(wire_of("www.z5.example.")) == zones[5].get());
    CHECK(zone_for(snapshot, "z20000.example.") == "");
}

TEST_CASE("compile: members_from sources, with their defaults, beside or instead of members") {
    const std::string text = R"({
  "zone": "demo.example",
  "soa": { "mname": "ns1", "rname": "hostmaster" },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] }, "www": { "pool": "web" } },
  "pools": {
    "web": {
      "members_from": [
        { "dns": "Web.Service.Consul.", "type": "A" },
        { "dns": "web.service.consul.", "type": "AAAA", "region": "us", "weight": 0, "state": "up",
          "resolver": "[::1]:8600", "refresh_min": 1, "refresh_max": 1 },
        { "dns": "_web._tcp", "type": "SRV", "resolver": "127.0.0.1" }
      ]
    },
    "both": {
      "members": [{ "address": "192.0.2.10" }],
      "members_from": [{ "dns": "db.service.consul.", "type": "A", "refresh_max": 86400 }]
    }
  }
})";
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(text, "demo.example.json", eu_and_us, diagnostics);
    INFO(all(diagnostics));
    REQUIRE(zone);
    const zone::Pool& web = zone->pools.at(0);
    CHECK(web.members.empty());
    REQUIRE(web.members_from.size() == 3);
    const zone::MemberSource& a = web.members_from[0];
    CHECK(a.name == "web.service.consul.");
    CHECK(a.type == zone::rrtype::A);
    CHECK(a.region == -1);
    CHECK_FALSE(a.weight);
    CHECK(a.state == zone::MemberState::automatic);
    CHECK_FALSE(a.resolver);
    CHECK(a.refresh_min_s == 5);
    CHECK(a.refresh_max_s == 300);
    const zone::MemberSource& aaaa = web.members_from[1];
    CHECK(aaaa.type == zone::rrtype::AAAA);
    CHECK(aaaa.region == 1);
    CHECK(aaaa.weight == 0u);
    CHECK(aaaa.state == zone::MemberState::up);
    REQUIRE(aaaa.resolver);
    CHECK(aaaa.resolver->to_string() == "[::1]:8600");
    CHECK(aaaa.refresh_min_s == 1);
    CHECK(aaaa.refresh_max_s == 1);
    const zone::MemberSource& srv = web.members_from[2];
    CHECK(srv.name == "_web._tcp.demo.example.");  // relative, as every name in a zone file
    CHECK(srv.type == zone::rrtype::SRV);
    REQUIRE(srv.resolver);
    CHECK(srv.resolver->to_string() == "127.0.0.1:53");

    const zone::Pool& both = zone->pools.at(1);
    CHECK(both.members.size() == 1);
    REQUIRE(both.members_from.size() == 1);
    CHECK(both.members_from[0].refresh_max_s == 86400);
}
