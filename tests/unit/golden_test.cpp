// Golden files: tests/golden/*.txt hold queries and the exact responses
// expected for them, run in-process against zones loaded by the real loader.
//
// A file is a list of directives and cases; '#' starts a comment line.
//   config FILE                the server config tests/golden/FILE: its regions
//                              and GeoIP database place clients (default: none)
//   zone FILE                  load tests/golden/zones/FILE (serial "auto" is 1)
//   option udp_payload N       answer::Options for every case in the file
//   option nsid TEXT
//   option ecs on|off
//   query NAME TYPE [FLAG]...  a case; the lines up to the next blank line are
//                              the response as tests/unit/packet.hpp renders it
// Flags: +edns  +udpsize=N  +ednsversion=N  +do  +nsid  +ecs=ADDR/PREFIX
//        +source=ADDR (default 127.0.0.1)  +tcp  +norec  +class=N  +id=N  +opcode=N
//        +counter=N (added to the rotation counters, which start at 0; default 0)
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "dnsd/answer/respond.hpp"
#include "dnsd/config/config.hpp"
#include "dnsd/geo/geo.hpp"
#include "dnsd/zone/load.hpp"
#include "packet.hpp"

using namespace dnsd;
namespace fs = std::filesystem;

namespace {

const fs::path golden_dir = fs::path(DNSD_SOURCE_DIR) / "tests" / "golden";

struct Case {
    size_t line = 0;
    std::string query;
    std::vector<std::string> expected;
};

struct GoldenFile {
    std::optional<std::string> config;
    std::vector<std::string> zones;
    answer::Options options;
    std::vector<Case> cases;
};

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

GoldenFile parse_golden(const fs::path& path) {
    GoldenFile file;
    std::istringstream in(read_text(path));
    Case* current = nullptr;
    size_t number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        INFO(path.string() << ":" << number << ": " << line);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
            current = nullptr;
            continue;
        }
        if (line.front() == '#') continue;
        if (current != nullptr) {
            current->expected.push_back(line);
            continue;
        }
        const auto w = words(line);
        if (w[0] == "config" && w.size() == 2) {
            file.config = w[1];
        } else if (w[0] == "zone" && w.size() == 2) {
            file.zones.push_back(w[1]);
        } else if (w[0] == "option" && w.size() == 3 && w[1] == "udp_payload") {
            file.options.udp_payload = static_cast<uint16_t>(std::stoul(w[2]));
        } else if (w[0] == "option" && w.size() == 3 && w[1] == "nsid") {
            file.options.nsid = w[2];
        } else if (w[0] == "option" && w.size() == 3 && w[1] == "ecs") {
            file.options.ecs = w[2] == "on";
        } else if (w[0] == "query" && w.size() >= 3) {
            file.cases.push_back({number, line, {}});
            current = &file.cases.back();
        } else {
            FAIL("unknown directive");
        }
    }
    return file;
}

struct Query {
    std::vector<uint8_t> packet;
    core::Address source = *core::Address::parse("127.0.0.1");
    answer::Transport transport = answer::Transport::udp;
    uint64_t counter = 0;
};

Query build(const std::string& line) {
    const auto w = words(line);
    Query q;
    test::QuerySpec spec;
    spec.name = w[1];
    const auto type = test::type_code(w[2]);
    REQUIRE(type.has_value());
    spec.type = *type;
    for (size_t i = 3; i < w.size(); ++i) {
        const std::string& flag = w[i];
        const auto eq = flag.find('=');
        const std::string key = flag.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : flag.substr(eq + 1);
        INFO("flag " << flag);
        if (key == "+edns") {
            spec.edns = true;
        } else if (key == "+udpsize") {
            spec.edns = true;
            spec.udp_size = static_cast<uint16_t>(std::stoul(value));
        } else if (key == "+ednsversion") {
            spec.edns = true;
            spec.edns_version = static_cast<uint8_t>(std::stoul(value));
        } else if (key == "+do") {
            spec.edns = true;
            spec.dnssec_ok = true;
        } else if (key == "+nsid") {
            spec.nsid = true;
        } else if (key == "+ecs") {
            const auto slash = value.find('/');
            REQUIRE(slash != std::string::npos);
            spec.ecs_address = core::Address::parse(value.substr(0, slash));
            REQUIRE(spec.ecs_address.has_value());
            spec.ecs_prefix = static_cast<uint8_t>(std::stoul(value.substr(slash + 1)));
        } else if (key == "+source") {
            auto source = core::Address::parse(value);
            REQUIRE(source.has_value());
            q.source = *source;
        } else if (key == "+tcp") {
            q.transport = answer::Transport::tcp;
        } else if (key == "+norec") {
            spec.rd = false;
        } else if (key == "+class") {
            spec.qclass = static_cast<uint16_t>(std::stoul(value));
        } else if (key == "+opcode") {
            spec.opcode = static_cast<uint8_t>(std::stoul(value));
        } else if (key == "+id") {
            spec.id = static_cast<uint16_t>(std::stoul(value));
        } else if (key == "+counter") {
            q.counter = std::stoull(value);
        } else {
            FAIL("unknown flag");
        }
    }
    q.packet = test::build_query(spec);
    return q;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += "    " + l + "\n";
    return out;
}

std::vector<fs::path> golden_files() {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(golden_dir))
        if (entry.path().extension() == ".txt") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

TEST_CASE("golden: every query in tests/golden gets exactly its recorded response", "[golden]") {
    const auto files = golden_files();
    REQUIRE(files.size() >= 5);
    size_t cases = 0;
    for (const auto& path : files) {
        const GoldenFile golden = parse_golden(path);
        INFO(path.filename().string());
        REQUIRE_FALSE(golden.cases.empty());

        std::vector<std::shared_ptr<const zone::Zone>> zones;
        config::Config config;
        if (golden.config) {
            core::Diagnostics diagnostics;
            auto loaded = config::load_file((golden_dir / *golden.config).string(), diagnostics);
            for (const auto& d : diagnostics) UNSCOPED_INFO(d.to_string());
            REQUIRE(loaded);
            config = std::move(*loaded);
        }
        for (const auto& name : golden.zones) {
            const fs::path zone_path = golden_dir / "zones" / name;
            core::Diagnostics diagnostics;
            auto zone = zone::load_zone(read_text(zone_path), zone_path.string(), config.region_names(), diagnostics);
            for (const auto& d : diagnostics) UNSCOPED_INFO(d.to_string());
            REQUIRE(zone != nullptr);
            zones.push_back(std::move(zone));
        }
        auto snapshot = std::make_shared<const zone::Snapshot>(std::move(zones));
        answer::View view;
        view.snapshot = snapshot;
        view.options = golden.options;
        if (golden.config) {
            std::string error;
            view.geo = geo::Geo::load(config, error);
            INFO(error);
            REQUIRE(view.geo);
        }

        std::vector<uint8_t> out(65535);
        for (const Case& c : golden.cases) {
            const Query q = build(c.query);
            answer::WorkerState state;
            state.prepare(view);
            state.rotation_offset = q.counter;
            const answer::Outcome outcome =
                answer::respond({q.packet, q.source, q.transport}, view, state, out);
            const test::Decoded decoded = test::decode({out.data(), outcome.size});
            INFO(path.filename().string() << ":" << c.line << ": " << c.query << "\nexpected:\n"
                                          << joined(c.expected) << "actual:\n"
                                          << (decoded.ok ? joined(decoded.lines) : "    " + decoded.error + "\n"));
            CHECK(decoded.ok);
            CHECK(decoded.lines == c.expected);
            // What every response must echo, checked here once for all files.
            CHECK(decoded.id == (q.packet[0] << 8 | q.packet[1]));
            CHECK(outcome.rcode == decoded.rcode);
            CHECK(outcome.truncated == decoded.tc);
            ++cases;
        }
    }
    CHECK(cases >= 60);
}
