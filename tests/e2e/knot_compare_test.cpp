// Side by side: Knot DNS serves the static zone tests/data/e2e/zones/static.test.json
// rendered here as an RFC 1035 zone file (straight from the JSON, independent of
// dnsd's loader); dnsd serves the same JSON. The same queries go to both and the
// answers are compared as sets of normalised records.
//
// knotd 3.2 runs with its defaults, which are already what SPEC §7 asks for:
// minimal responses (no NS in authority on positive answers), a minimal ANY
// (RFC 8482), DS at a cut answered from the parent, the negative TTL as
// min(SOA TTL, minimum). Only static.test is served by either server, so
// other.test (the target of `cross`) is outside for both. The differences SPEC
// allows are listed with the queries they concern (see Compare).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {
namespace {

using Json = nlohmann::json;

const char* const zone_name = "static.test";

Json read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    return Json::parse(in);
}

// A JSON name (relative to the zone unless it ends in '.', '@' for the apex) as an absolute name.
std::string absolute(const std::string& name, const std::string& zone) {
    if (name == "@") return zone + ".";
    if (name.ends_with('.')) return name;
    return name + "." + zone + ".";
}

// A zone-file character-string: quoted, with '"' and '\' escaped.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

// The record lines for one type at one owner, from the JSON value of that type.
void render_rrset(std::ostream& out, const std::string& owner, uint32_t ttl, const std::string& type,
                  const Json& value, const std::string& zone) {
    auto line = [&](const std::string& rdata) { out << owner << ' ' << ttl << " IN " << type << ' ' << rdata << '\n'; };
    if (type == "A" || type == "AAAA") {
        for (const auto& address : value) line(address.get<std::string>());
    } else if (type == "CNAME") {
        line(absolute(value.get<std::string>(), zone));
    } else if (type == "NS" || type == "PTR") {
        for (const auto& name : value) line(absolute(name.get<std::string>(), zone));
    } else if (type == "MX") {
        for (const auto& mx : value)
            line(std::to_string(mx.at("preference").get<int>()) + " " + absolute(mx.at("exchange").get<std::string>(), zone));
    } else if (type == "SRV") {
        for (const auto& srv : value)
            line(std::to_string(srv.at("priority").get<int>()) + " " + std::to_string(srv.at("weight").get<int>()) + " " +
                 std::to_string(srv.at("port").get<int>()) + " " + absolute(srv.at("target").get<std::string>(), zone));
    } else if (type == "CAA") {
        for (const auto& caa : value)
            line(std::to_string(caa.at("flags").get<int>()) + " " + caa.at("tag").get<std::string>() + " " +
                 quoted(caa.at("value").get<std::string>()));
    } else if (type == "TXT") {
        for (const auto& entry : value) {
            std::string rdata;
            if (entry.is_string()) {
                rdata = quoted(entry.get<std::string>());
            } else {
                for (const auto& part : entry) rdata += (rdata.empty() ? "" : " ") + quoted(part.get<std::string>());
            }
            line(rdata);
        }
    } else {
        FAIL("the zone renderer does not know type " << type);
    }
}

// The whole zone as an RFC 1035 master file. Only static data: a pool fails the test.
std::string render_zone_file(const Json& zone) {
    const std::string name = zone.at("zone").get<std::string>();
    const uint32_t zone_ttl = zone.value("ttl", 30u);
    std::ostringstream out;
    const Json& soa = zone.at("soa");
    REQUIRE(soa.at("serial").is_number());  // knotd needs the number; "auto" is dnsd's own
    out << name << ". " << zone_ttl << " IN SOA " << absolute(soa.at("mname").get<std::string>(), name) << ' '
        << absolute(soa.at("rname").get<std::string>(), name) << ' ' << soa.at("serial").get<uint32_t>() << ' '
        << soa.at("refresh").get<uint32_t>() << ' ' << soa.at("retry").get<uint32_t>() << ' '
        << soa.at("expire").get<uint32_t>() << ' ' << soa.at("minimum").get<uint32_t>() << '\n';
    for (const auto& [owner, data] : zone.at("records").items()) {
        REQUIRE_FALSE(data.contains("pool"));
        const uint32_t ttl = data.value("ttl", zone_ttl);
        for (const auto& [type, value] : data.items()) {
            if (type == "ttl") continue;
            render_rrset(out, absolute(owner, name), ttl, type, value, name);
        }
    }
    return out.str();
}

// knotd serving one zone file on 127.0.0.1, as the current user, from a temp dir.
class Knotd {
public:
    Knotd(const std::string& zone, const std::string& zone_file) {
        if (run_command({"sh", "-c", "command -v knotd"}).exit_code != 0)
            FAIL("knotd is not installed: apt-get install knot (the side-by-side test needs it)");
        dir_.write("zones/" + zone + ".zone", zone_file);
        dir_.write("run/.keep", "");
        dir_.write("storage/.keep", "");
        // knotd cannot report an ephemeral port: on a bind race, the next one.
        for (int attempt = 0; attempt < 5 && !process_; ++attempt) {
            port_ = free_port();
            start(zone);
        }
        if (!process_) FAIL("knotd did not start:\n" << log());
    }

    uint16_t port() const { return port_; }
    std::string log() const { return read_text(dir_.path() / "knotd.log"); }

private:
    void start(const std::string& zone) {
        const auto& dir = dir_.path();
        std::ostringstream conf;
        conf << "server:\n  rundir: \"" << (dir / "run").string() << "\"\n  listen: 127.0.0.1@" << port_ << "\n"
             << "database:\n  storage: \"" << (dir / "storage").string() << "\"\n"
             << "log:\n  - target: stderr\n    any: info\n"
             << "zone:\n  - domain: " << zone << "\n    file: \"" << (dir / "zones" / (zone + ".zone")).string()
             << "\"\n    journal-content: none\n    zonefile-sync: -1\n";
        auto conf_path = dir_.write("knot.conf", conf.str());
        auto process = std::make_unique<Process>(std::vector<std::string>{"knotd", "-c", conf_path.string()},
                                                 dir / "knotd.log");
        // Ready when it answers for the zone; a lost bind race makes it exit.
        auto deadline = std::chrono::steady_clock::now() + 20s;
        while (std::chrono::steady_clock::now() < deadline && !process->exited()) {
            auto soa = dig(port_, {zone + ".", "SOA", "+time=1"});
            if (soa.answered && soa.status == "NOERROR" && !soa.answer.empty()) {
                process_ = std::move(process);
                return;
            }
        }
    }

    TempDir dir_;
    uint16_t port_ = 0;
    std::unique_ptr<Process> process_;
};

// How much of two answers must agree; anything short of `everything` is a
// difference SPEC allows, explained where the query is listed.
enum class Compare { everything, any_minimal, truncated, sibling_glue };

struct Query {
    std::string name;  // relative to static.test unless it ends in '.'
    std::string type;
    std::vector<std::string> options{};
    Compare compare = Compare::everything;
};

std::set<Rr> as_set(const std::vector<Rr>& rrs) { return {rrs.begin(), rrs.end()}; }

std::string describe(const std::vector<Rr>& rrs) {
    std::string out;
    for (const auto& rr : as_set(rrs)) out += "\n  " + rr.text();
    return out.empty() ? " (empty)" : out;
}

// The Extended DNS Error's INFO-CODE as dig prints it ("; EDE: 20 (Not
// Authoritative)"), or empty: both servers explain a refusal the same way.
std::string ede_code(const std::string& dig_output) {
    const size_t at = dig_output.find("; EDE: ");
    if (at == std::string::npos) return "";
    const size_t start = at + 7;
    return dig_output.substr(start, dig_output.find_first_not_of("0123456789", start) - start);
}

std::string qualified(const std::string& name) {
    return name.ends_with('.') ? name : name + "." + zone_name + ".";
}

const std::vector<Query>& queries() {
    static const std::vector<Query> list = {
        // apex data, every type
        {"static.test.", "SOA"}, {"static.test.", "NS"}, {"static.test.", "MX"}, {"static.test.", "A"},
        {"static.test.", "AAAA"}, {"static.test.", "TXT"}, {"static.test.", "CAA"}, {"static.test.", "DNSKEY"},
        // plain names, case variants, multi-record RRsets
        {"www", "A"}, {"www", "AAAA"}, {"WwW.StAtIc.TeSt.", "A"}, {"WWW", "AAAA"}, {"mixed.case", "A"},
        {"MIXED.case", "A"}, {"multi", "A"}, {"multi", "AAAA"}, {"ns1", "AAAA"}, {"mail", "A"},
        {"txt", "TXT"}, {"ptr", "PTR"}, {"caa", "CAA"}, {"_sip._tcp", "SRV"}, {"big", "A"},
        // larger than 1232 octets: TC over UDP, dig retries over TCP and both must give it whole
        {"bigtxt", "TXT"}, {"bigtxt", "TXT", {"+tcp"}},
        // negative answers: NXDOMAIN, NODATA, empty non-terminals
        {"nothing", "A"}, {"a.b.nothing", "AAAA"}, {"www", "MX"}, {"www", "TXT"}, {"ent", "A"},
        {"deep.ent", "AAAA"}, {"host.deep.ent", "A"}, {"host.deep.ent", "TXT"}, {"_tcp", "SRV"},
        // CNAME: in zone, chains, dangling, out of zone, loop, asked for directly
        {"alias", "A"}, {"alias", "AAAA"}, {"alias", "CNAME"}, {"alias", "MX"}, {"chain1", "A"}, {"chain2", "AAAA"},
        {"dangling", "A"}, {"out", "A"}, {"cross", "A"}, {"loop1", "A"},
        // wildcards (RFC 4592)
        {"a.wild", "A"}, {"b.c.wild", "AAAA"}, {"a.wild", "TXT"}, {"a.wild", "MX"}, {"*.wild", "A"},
        {"exists.wild", "TXT"}, {"exists.wild", "A"}, {"x.exists.wild", "A"}, {"ent.wild", "A"},
        {"x.ent.wild", "A"}, {"host.ent.wild", "A"}, {"a.cnamewild", "A"}, {"b.cnamewild", "CNAME"},
        // delegations: glue below the cut, in-zone targets, out-of-zone only; DS at the cut
        {"www.sub", "A"}, {"sub", "NS"}, {"sub", "A"}, {"ns1.sub", "A"}, {"sub", "DS"},
        {"sub2", "DS"}, {"sub3", "A"}, {"a.b.sub3", "MX"},
        // Name servers in this zone but not below the cut ("sibling glue"):
        // RFC 9471 requires only in-domain glue, and SPEC keeps the additional
        // section to glue. knotd adds the siblings' addresses, dnsd does not;
        // see Compare::sibling_glue.
        {"x.sub2", "AAAA", {}, Compare::sibling_glue}, {"www.sub4", "A", {}, Compare::sibling_glue},
        // outside the zone
        {"www.example.com.", "A"}, {"test.", "SOA"},
        // ANY: RFC 8482 lets each server pick what it answers with; see Compare::any_minimal
        {"www", "ANY", {}, Compare::any_minimal}, {"static.test.", "ANY", {}, Compare::any_minimal},
        {"multi", "ANY", {}, Compare::any_minimal}, {"nothing", "ANY"},
        // 40 A records do not fit in 512 octets: which records a truncated
        // answer keeps is the server's choice; TC, rcode and AA must agree
        {"big", "A", {"+noedns", "+ignore"}, Compare::truncated},
    };
    return list;
}

}  // namespace

TEST_CASE("knotd and dnsd give the same answers for the static zone", "[knot]") {
    const auto source = data_dir() / "zones" / (std::string(zone_name) + ".json");
    const Json zone = read_json(source);
    Knotd knot(zone_name, render_zone_file(zone));

    // dnsd serves exactly the same zone and nothing else.
    TempDir zones;
    std::filesystem::copy_file(source, zones.path() / source.filename());
    DnsdOptions options;
    options.zones_dir = zones.path();
    Dnsd dnsd(options);

    REQUIRE(queries().size() >= 40);
    for (const auto& query : queries()) {
        std::vector<std::string> args{qualified(query.name), query.type};
        args.insert(args.end(), query.options.begin(), query.options.end());
        const DigResult expected = dig(knot.port(), args);
        const DigResult seen = dig(dnsd.port(), args);
        INFO("query: " << args[0] << " " << args[1] << "\nknotd:\n" << expected.output << "\ndnsd:\n" << seen.output);
        REQUIRE(expected.answered);
        REQUIRE(seen.answered);
        CHECK(seen.status == expected.status);
        CHECK(seen.has_flag("aa") == expected.has_flag("aa"));
        CHECK(seen.has_flag("tc") == expected.has_flag("tc"));
        CHECK(seen.question == expected.question);
        CHECK(ede_code(seen.output) == ede_code(expected.output));
        switch (query.compare) {
        case Compare::everything:
            CHECK(describe(seen.answer) == describe(expected.answer));
            CHECK(describe(seen.authority) == describe(expected.authority));
            CHECK(describe(seen.additional) == describe(expected.additional));
            break;
        case Compare::any_minimal: {
            // Both answer with a subset of the name's RRsets; dnsd's must be
            // exactly one whole RRset that knotd gives for that type.
            REQUIRE_FALSE(seen.answer.empty());
            const std::string type = seen.answer.front().type;
            for (const auto& rr : seen.answer) CHECK(rr.type == type);
            const DigResult whole = dig(knot.port(), {qualified(query.name), type});
            CHECK(describe(seen.answer) == describe(whole.answer));
            CHECK(seen.authority.empty());
            break;
        }
        case Compare::truncated:
            CHECK(seen.has_flag("tc"));
            break;
        case Compare::sibling_glue: {
            CHECK(describe(seen.answer) == describe(expected.answer));
            CHECK(describe(seen.authority) == describe(expected.authority));
            // dnsd's additional is knotd's without the siblings: every in-domain
            // glue record (below the cut) is there, and nothing knotd lacks.
            REQUIRE_FALSE(expected.authority.empty());
            const std::string below_cut = "." + expected.authority.front().owner;
            const std::set<Rr> have = as_set(seen.additional), knot_has = as_set(expected.additional);
            for (const auto& rr : knot_has)
                if (rr.owner.ends_with(below_cut)) CHECK(have.count(rr) == 1);
            for (const auto& rr : have) CHECK(knot_has.count(rr) == 1);
            break;
        }
        }
    }
}

}  // namespace dnsd::e2e
