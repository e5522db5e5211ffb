// answer::lookup against a walk down from the apex one label at a time
// (RFC 1034 §4.3.2 step 3, RFC 4592), which it shortcuts for names with no
// zone cut above them.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/answer/lookup.hpp"
#include "dnsd/core/diagnostic.hpp"
#include "dnsd/wire/name.hpp"
#include "dnsd/zone/load.hpp"
#include "dnsd/zone/name.hpp"

using namespace dnsd;
namespace rrtype = zone::rrtype;
using Kind = answer::Lookup::Kind;

namespace {

constexpr std::string_view cuts_zone = R"({
  "zone": "cuts.example",
  "ttl": 60,
  "soa": { "mname": "ns1", "rname": "hostmaster", "serial": 1 },
  "records": {
    "@":             { "NS": ["ns1"] },
    "ns1":           { "A": ["192.0.2.1"] },
    "www":           { "A": ["192.0.2.2"] },
    "*":             { "A": ["192.0.2.3"] },
    "a.b.c":         { "TXT": ["ent above"] },
    "*.wild":        { "A": ["192.0.2.4"] },
    "sub":           { "NS": ["ns.sub", "ns1"] },
    "ns.sub":        { "A": ["192.0.2.5"] },
    "deep.glue.sub": { "A": ["192.0.2.6"] },
    "*.sub":         { "A": ["192.0.2.7"] }
  }
})";

const std::string apex("\4cuts\7example\0", 14);

std::string in_zone(std::string_view relative) {
    std::string problem;
    return *zone::to_wire(relative, apex, problem);
}

std::shared_ptr<const zone::Zone> load_cuts() {
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(cuts_zone, "cuts.example.json", {}, diagnostics);
    REQUIRE(zone);
    return zone;
}

// The walk from the apex down, a label at a time: the first missing name
// ends it at the closest encloser, whose wildcard synthesises the answer if
// there is one; a cut on the way refers, except a cut at the name itself for
// DS, which the parent answers (RFC 4035 §3.1.4.1).
answer::Lookup walk(const zone::Zone& zone, std::string_view name, uint16_t qtype) {
    std::vector<std::string_view> path;  // the names from just below the apex down to `name`
    for (std::string_view up = name; up.size() > zone.apex.size(); up = wire::parent(up)) path.insert(path.begin(), up);
    const zone::Node* encloser = zone.find(zone.apex);
    for (std::string_view step : path) {
        const zone::Node* node = zone.find(step);
        if (node == nullptr) {
            const zone::Node* wildcard = zone.find(std::string("\1*", 2) + std::string(encloser->name));
            return wildcard ? answer::Lookup{Kind::wildcard, wildcard} : answer::Lookup{};
        }
        if (node->delegation && !(step == name && qtype == rrtype::DS)) return {Kind::delegation, node};
        encloser = node;
    }
    return {Kind::exact, encloser};
}

}  // namespace

TEST_CASE("zone cuts mark the names below them, glue and wildcards included", "[lookup]") {
    auto zone = load_cuts();
    for (std::string_view below : {"ns.sub", "glue.sub", "deep.glue.sub", "*.sub"}) {
        INFO(below);
        REQUIRE(zone->find(in_zone(below)));
        CHECK(zone->find(in_zone(below))->below_cut);
    }
    for (std::string_view above : {"@", "sub", "www", "c", "b.c", "a.b.c", "*", "wild", "*.wild"}) {
        INFO(above);
        const zone::Node* node = zone->find(above == "@" ? apex : in_zone(above));
        REQUIRE(node);
        CHECK_FALSE(node->below_cut);
    }
}

TEST_CASE("lookup lands where the walk from the apex does", "[lookup]") {
    auto zone = load_cuts();
    struct Case {
        std::string_view name;
        uint16_t qtype;
        Kind kind;
        std::string_view node;  // relative; "@": the apex; empty: none
    };
    const Case cases[] = {
        {"@", rrtype::SOA, Kind::exact, "@"},
        {"www", rrtype::A, Kind::exact, "www"},
        {"b.c", rrtype::A, Kind::exact, "b.c"},  // an empty non-terminal
        {"a.b.c", rrtype::TXT, Kind::exact, "a.b.c"},
        {"x.c", rrtype::A, Kind::nxdomain, ""},  // "c" exists, so "*" does not cover it
        {"nothing", rrtype::A, Kind::wildcard, "*"},
        {"a.nothing", rrtype::A, Kind::wildcard, "*"},
        {"*", rrtype::A, Kind::exact, "*"},
        {"x.wild", rrtype::A, Kind::wildcard, "*.wild"},
        {"a.x.wild", rrtype::A, Kind::wildcard, "*.wild"},
        {"*.wild", rrtype::A, Kind::exact, "*.wild"},
        {"sub", rrtype::A, Kind::delegation, "sub"},
        {"sub", rrtype::NS, Kind::delegation, "sub"},
        {"sub", rrtype::DS, Kind::exact, "sub"},  // the parent side answers DS at the cut
        {"ns.sub", rrtype::A, Kind::delegation, "sub"},
        {"ns.sub", rrtype::DS, Kind::delegation, "sub"},
        {"glue.sub", rrtype::A, Kind::delegation, "sub"},
        {"deep.glue.sub", rrtype::A, Kind::delegation, "sub"},
        {"deep.glue.sub", rrtype::DS, Kind::delegation, "sub"},
        {"*.sub", rrtype::A, Kind::delegation, "sub"},
        {"missing.sub", rrtype::A, Kind::delegation, "sub"},
        {"a.missing.sub", rrtype::DS, Kind::delegation, "sub"},
    };
    for (const Case& c : cases) {
        const std::string name = c.name == "@" ? apex : in_zone(c.name);
        INFO(c.name << " type " << c.qtype);
        const answer::Lookup found = answer::lookup(*zone, name, c.qtype);
        const answer::Lookup walked = walk(*zone, name, c.qtype);
        CHECK(found.kind == walked.kind);
        CHECK(found.node == walked.node);
        CHECK(found.kind == c.kind);
        if (c.node.empty()) {
            CHECK(found.node == nullptr);
        } else {
            REQUIRE(found.node != nullptr);
            CHECK(found.node->name == (c.node == "@" ? apex : in_zone(c.node)));
        }
    }
}
