// A fleet end to end (SPEC §13): a real nats-server with JetStream and three
// real dnsd nodes, each started by the test on loopback. An override or a
// registration made on one node reaches all; a node started later or
// restarted catches up; every node ends a lease on its own; `dnsd
// push` reaches every node, and an invalid push changes nothing; NATS killed
// under query load costs no query and the nodes rejoin by themselves; and,
// as root in a network namespace of the test's own, nodes that really see
// different health (an nftables rule by uid) agree on the quorum's verdict.
// Propagation is asked for within 2 s; the tests wait much longer before
// giving up (sanitizers, a busy machine) and print what they measured.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

using nlohmann::json;
using Addresses = std::set<std::string>;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// How long the tests wait for what the fleet promises within 2 s, or for a
// connection, before giving up.
constexpr auto patience = 30s;

// Polls `done` every 20 ms until it holds; false once `timeout` has passed.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = patience) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);  // polling pace, not synchronisation
    }
    return true;
}

// The seconds `done` took to hold (polled as by eventually), or nullopt.
std::optional<double> time_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = patience) {
    const auto start = Clock::now();
    if (!eventually(done, timeout)) return std::nullopt;
    return Seconds(Clock::now() - start).count();
}

void report(const std::string& what, std::optional<double> seconds) {
    if (seconds) std::cerr << "fleet e2e: " << what << ": " << *seconds << " s\n";
}

// Nodes of one fleet sharing one NATS server, named ns1, ns2, ...; each has a
// config of its own and a state dir that outlives its restarts.
class Fleet {
public:
    struct Options {
        size_t nodes = 3;
        json health_quorum = "majority";
        std::string zones = "local";
        std::filesystem::path zones_dir = data_dir() / "zones";
        // The uid each node runs as (DnsdOptions::user); empty: the test's own.
        std::vector<uid_t> users;
        json config = json::object();  // every node's config beside "fleet"
    };

    Fleet(const NatsServer& nats, Options options) : nats_(nats), options_(std::move(options)) {
        for (size_t i = 0; i < options_.nodes; ++i) add();
    }

    size_t size() const { return nodes_.size(); }
    static std::string name(size_t i) { return "ns" + std::to_string(i + 1); }
    const std::filesystem::path& state_dir(size_t i) const { return state_dirs_.at(i)->path(); }

    // Node i; it must be running.
    const Dnsd& node(size_t i) const {
        if (!nodes_.at(i)) throw std::runtime_error(name(i) + " is stopped");
        return *nodes_[i];
    }

    // A new node, with a state dir of its own; returns its index.
    size_t add() {
        state_dirs_.push_back(std::make_unique<TempDir>());
        nodes_.emplace_back();
        start(nodes_.size() - 1);
        return nodes_.size() - 1;
    }

    // Starts node i (again), with its config and state dir; returns once it is ready.
    void start(size_t i) {
        DnsdOptions dnsd;
        dnsd.zones_dir = options_.zones_dir;
        dnsd.state_dir = state_dirs_.at(i)->path();
        dnsd.listen = {"127.0.0.1:0"};
        dnsd.extra_args = {"--threads", "1"};
        if (i < options_.users.size()) dnsd.user = options_.users[i];
        json config = options_.config;
        config["fleet"] = {{"nats", {nats_.url()}},
                           {"node", name(i)},
                           {"health_quorum", options_.health_quorum},
                           {"zones", options_.zones}};
        dnsd.config_json = config.dump(2);
        nodes_.at(i) = std::make_unique<Dnsd>(dnsd);
    }

    // Stops node i (SIGTERM); its exit status.
    int stop(size_t i) {
        const int status = nodes_.at(i)->stop();
        nodes_[i].reset();
        return status;
    }

    // Every node's log, for failure messages.
    std::string logs() const {
        std::string out;
        for (size_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i]) out += "---- " + name(i) + "\n" + nodes_[i]->log();
        return out;
    }

private:
    const NatsServer& nats_;
    const Options options_;
    std::vector<std::unique_ptr<TempDir>> state_dirs_;
    std::vector<std::unique_ptr<Dnsd>> nodes_;
};

// CHECK (or, `required`, REQUIRE) that shows, failing, every node's log as it is then.
void check(const Fleet& fleet, bool ok, const std::string& what, bool required = false) {
    INFO(what << "\n" << fleet.logs());
    if (required)
        REQUIRE(ok);
    else
        CHECK(ok);
}

json get_json(const Dnsd& node, const std::string& target) {
    const HttpResponse response = http_request(node.http_port(), "GET", target);
    INFO(target << " → " << response.status << " " << response.body);
    REQUIRE(response.status == 200);
    return json::parse(response.body);
}

std::string connection(const Dnsd& node) { return get_json(node, "/v1/fleet").value("connection", ""); }

// Every running node, among `indices`, says `state` ("connected", "isolated").
bool all_say(const Fleet& fleet, const std::vector<size_t>& indices, const std::string& state) {
    for (size_t i : indices)
        if (connection(fleet.node(i)) != state) return false;
    return true;
}

std::vector<size_t> all_of(const Fleet& fleet) {
    std::vector<size_t> out(fleet.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = i;
    return out;
}

// The A addresses of one UDP answer; empty when none came or it was not NOERROR.
Addresses answer(const Dnsd& node, const std::string& name) {
    const auto bytes = udp_exchange(node.port(), make_query(1, name, rrtype::A));
    const auto response = bytes ? parse_response(*bytes) : std::nullopt;
    if (!response || response->header.rcode() != rcode::noerror) return {};
    return {response->answer_addresses.begin(), response->answer_addresses.end()};
}

// Every node among `indices` answers `name` with `want`.
bool all_answer(const Fleet& fleet, const std::vector<size_t>& indices, const std::string& name, const Addresses& want) {
    for (size_t i : indices)
        if (answer(fleet.node(i), name) != want) return false;
    return true;
}

// Some line of `log` contains every one of `words`.
bool has_line_with(const std::string& log, std::initializer_list<std::string_view> words) {
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);)
        if (std::all_of(words.begin(), words.end(), [&](std::string_view word) { return line.find(word) != std::string::npos; }))
            return true;
    return false;
}

// The node answers `name` with REFUSED: it serves no zone of it.
bool refuses(const Dnsd& node, const std::string& name) {
    const auto bytes = udp_exchange(node.port(), make_query(1, name, rrtype::A));
    const auto response = bytes ? parse_response(*bytes) : std::nullopt;
    return response && response->header.rcode() == rcode::refused;
}

void put_override(const Dnsd& node, const std::string& address, const std::string& state) {
    const HttpResponse response = http_request(node.http_port(), "PUT", "/v1/zones/pools.test/pools/rr/members/" + address,
                                               R"({"state": ")" + state + "\"}");
    INFO(response.body);
    REQUIRE(response.status == 200);
}

const std::string rr = "rr.pools.test";
const Addresses rr_v4{"192.0.2.21", "192.0.2.22", "192.0.2.23", "192.0.2.24"};

Addresses without(Addresses addresses, const std::vector<std::string>& gone) {
    for (const auto& address : gone) addresses.erase(address);
    return addresses;
}

}  // namespace

TEST_CASE("fleet: an override made on one node reaches every node, and dnsd fleet lists them", "[fleet]") {
    NatsServer nats;
    Fleet fleet(nats, {});
    const auto everyone = all_of(fleet);
    check(fleet, eventually([&] { return all_say(fleet, everyone, "connected"); }), "all connected", true);
    for (size_t i : everyone)
        CHECK(fleet.node(i).log().find("fleet: connected to " + nats.url() + " as " + Fleet::name(i)) != std::string::npos);
    REQUIRE(all_answer(fleet, everyone, rr, rr_v4));

    put_override(fleet.node(0), "192.0.2.23", "down");
    const auto drained = time_until([&] { return all_answer(fleet, everyone, rr, without(rr_v4, {"192.0.2.23"})); });
    check(fleet, drained.has_value(), "drain reached all");
    report("a drain on ns1 to out of the answers of all 3 nodes", drained);

    put_override(fleet.node(2), "192.0.2.23", "auto");
    const auto back = time_until([&] { return all_answer(fleet, everyone, rr, rr_v4); });
    check(fleet, back.has_value(), "auto reached all");
    report("auto on ns3 to back in the answers of all 3 nodes", back);

    // Every node has heard every other's heartbeat: /v1/fleet and dnsd fleet list all three.
    check(fleet, eventually([&] {
        for (size_t i : everyone) {
            const json fleet_json = get_json(fleet.node(i), "/v1/fleet");
            size_t fresh = 0;
            for (const auto& node : fleet_json["nodes"]) fresh += node.value("stale", true) ? 0 : 1;
            if (fresh != fleet.size()) return false;
        }
        return true;
    }), "every node hears every heartbeat", true);
    const json ns2 = get_json(fleet.node(1), "/v1/fleet");
    CHECK(ns2["node"] == "ns2");
    CHECK(ns2["health_quorum"] == "majority");
    CHECK(ns2["zones"] == "local");
    CHECK(ns2["drift"] == false);
    for (const auto& node : ns2["nodes"]) {
        CHECK(node["self"] == (node["node"] == "ns2"));
        CHECK(node["version"] == DNSD_VERSION);
        CHECK(node["zones"]["pools.test"].is_number());
    }
    const CommandResult listed =
        run_command({DNSD_BINARY, "fleet", "--http", "127.0.0.1:" + std::to_string(fleet.node(1).http_port())});
    INFO(listed.out << listed.err);
    CHECK(listed.exit_code == 0);
    for (size_t i : everyone) CHECK(listed.out.find(Fleet::name(i)) != std::string::npos);
    const CommandResult unreachable =
        run_command({DNSD_BINARY, "fleet", "--http", "127.0.0.1:" + std::to_string(free_port())});
    CHECK(unreachable.exit_code == 1);
}

TEST_CASE("fleet: a node started later, and a node restarted, get the overrides from NATS", "[fleet]") {
    NatsServer nats;
    Fleet fleet(nats, {});
    check(fleet, eventually([&] { return all_say(fleet, all_of(fleet), "connected"); }), "all connected", true);
    put_override(fleet.node(0), "192.0.2.23", "down");
    check(fleet, eventually([&] { return all_answer(fleet, all_of(fleet), rr, without(rr_v4, {"192.0.2.23"})); }),
          "drain reached all", true);

    // ns2 is down while ns1 drains another member: only NATS can tell it.
    CHECK(fleet.stop(1) == 0);
    put_override(fleet.node(0), "192.0.2.21", "down");
    const Addresses both_drained = without(rr_v4, {"192.0.2.21", "192.0.2.23"});
    check(fleet, eventually([&] { return all_answer(fleet, {0, 2}, rr, both_drained); }), "second drain reached ns1, ns3",
          true);

    fleet.start(1);
    const auto restarted = time_until([&] { return answer(fleet.node(1), rr) == both_drained; });
    check(fleet, restarted.has_value(), "restarted ns2 caught up");
    report("restarted ns2 from ready to the drain made while it was down", restarted);

    // A newcomer with an empty state dir.
    const size_t late = fleet.add();
    CHECK(Fleet::name(late) == "ns4");
    const auto newcomer = time_until([&] { return answer(fleet.node(late), rr) == both_drained; });
    check(fleet, newcomer.has_value(), "ns4 caught up");
    report("new ns4 from ready to both drains", newcomer);

    // The newcomer's own change reaches the others; ns2, down meanwhile,
    // still keeps both drains in its state dir.
    CHECK(fleet.stop(1) == 0);
    put_override(fleet.node(late), "192.0.2.21", "auto");
    put_override(fleet.node(late), "192.0.2.23", "auto");
    check(fleet, eventually([&] { return all_answer(fleet, {0, 2, late}, rr, rr_v4); }), "ns4's autos reached the others",
          true);

    // Restarted, ns2 finds the fleet's overrides all ended, not a fleet that
    // never had any: it ends its kept drains instead of handing them back.
    fleet.start(1);
    check(fleet, eventually([&] { return all_answer(fleet, all_of(fleet), rr, rr_v4); }),
          "restarted ns2 ended the drains it kept");
}

namespace {

std::string registration_path(const std::string& address) {
    return "/v1/zones/pools.test/pools/rr/registrations/" + address;
}

// The registrations file in node i's state dir mentions `address`.
bool kept(const Fleet& fleet, size_t i, const std::string& address) {
    std::ifstream file(fleet.state_dir(i) / "registrations.json");
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return text.find('"' + address + '"') != std::string::npos;
}

// Registration records the node has read from the fleet (/metrics).
uint64_t registration_updates(const Dnsd& node) {
    const HttpResponse metrics = http_request(node.http_port(), "GET", "/metrics");
    const std::string name = "dnsd_fleet_updates_total{kind=\"registration\"} ";
    const size_t at = metrics.body.find(name);
    return at == std::string::npos ? 0 : std::stoull(metrics.body.substr(at + name.size()));
}

}  // namespace

TEST_CASE("fleet: a registration on one node is answered by every node, a later node gets it, a delete on another "
          "ends it everywhere (on a node restarted too), nodes cut off keep it, and each node ends a lease on its own",
          "[fleet][registrations]") {
    NatsServer nats;
    Fleet::Options two;
    two.nodes = 2;
    Fleet fleet(nats, two);
    check(fleet, eventually([&] { return all_say(fleet, all_of(fleet), "connected"); }), "all connected", true);
    REQUIRE(all_answer(fleet, all_of(fleet), rr, rr_v4));

    const HttpResponse added =
        http_request(fleet.node(0).http_port(), "PUT", registration_path("192.0.2.25"), R"({"lease": 600})");
    INFO(added.body);
    REQUIRE(added.status == 201);
    Addresses registered = rr_v4;
    registered.insert("192.0.2.25");
    const auto reached = time_until([&] { return all_answer(fleet, all_of(fleet), rr, registered); });
    check(fleet, reached.has_value(), "the registration on ns1 reached ns2", true);
    report("a registration on ns1 to in the answers of both nodes", reached);
    check(fleet, eventually([&] { return kept(fleet, 1, "192.0.2.25"); }), "ns2 keeps it in its state dir");
    const json status = get_json(fleet.node(1), "/v1/status");
    CHECK(status.dump().find("192.0.2.25") != std::string::npos);

    // Cut off from NATS, the nodes keep it; back, and having read the bucket again, they still have it.
    const uint64_t seen[] = {registration_updates(fleet.node(0)), registration_updates(fleet.node(1))};
    nats.stop();
    check(fleet, eventually([&] { return all_say(fleet, all_of(fleet), "isolated"); }), "both isolated", true);
    CHECK(all_answer(fleet, all_of(fleet), rr, registered));
    nats.start();
    check(fleet, eventually([&] { return all_say(fleet, all_of(fleet), "connected"); }), "both back", true);
    check(fleet, eventually([&] {
              return registration_updates(fleet.node(0)) > seen[0] && registration_updates(fleet.node(1)) > seen[1];
          }),
          "both read the bucket again", true);
    CHECK(all_answer(fleet, all_of(fleet), rr, registered));

    // A newcomer with an empty state dir gets it from NATS.
    const size_t late = fleet.add();
    const auto newcomer = time_until([&] { return answer(fleet.node(late), rr) == registered; });
    check(fleet, newcomer.has_value(), "ns3, started later, has the registration", true);
    report("new ns3 from ready to the registration", newcomer);

    // ns3 is down, keeping the registration in its state dir, while ns2
    // deregisters it: gone from the answers of ns1 and ns2, and from ns1's state dir.
    CHECK(fleet.stop(late) == 0);
    CHECK(kept(fleet, late, "192.0.2.25"));
    const HttpResponse deleted = http_request(fleet.node(1).http_port(), "DELETE", registration_path("192.0.2.25"));
    INFO(deleted.body);
    REQUIRE(deleted.status == 200);
    check(fleet, eventually([&] { return all_answer(fleet, {0, 1}, rr, rr_v4); }), "the delete on ns2 reached ns1", true);
    check(fleet, eventually([&] { return !kept(fleet, 0, "192.0.2.25"); }), "ns1 no longer keeps it");

    // Restarted, ns3 restores it from its state dir, then learns from NATS that it was deleted.
    fleet.start(late);
    CHECK(has_line_with(fleet.node(late).log(), {"1 registration restored"}));
    check(fleet, eventually([&] { return answer(fleet.node(late), rr) == rr_v4; }),
          "restarted ns3 ended the registration deleted while it was down", true);
    check(fleet, eventually([&] { return !kept(fleet, late, "192.0.2.25"); }), "ns3 no longer keeps it");

    // A short lease, never renewed: once every node answers with it, each
    // ends it by its own clock (the log says it ran out there, not that the
    // fleet deleted it).
    const HttpResponse brief =
        http_request(fleet.node(2).http_port(), "PUT", registration_path("192.0.2.26"), R"({"lease": 20})");
    INFO(brief.body);
    REQUIRE(brief.status == 201);
    registered = rr_v4;
    registered.insert("192.0.2.26");
    check(fleet, eventually([&] { return all_answer(fleet, all_of(fleet), rr, registered); }),
          "the short registration on ns3 reached all", true);
    check(fleet, eventually([&] { return all_answer(fleet, all_of(fleet), rr, rr_v4); }, 60s),
          "the short lease ended on every node", true);
    for (size_t i : all_of(fleet))
        check(fleet, has_line_with(fleet.node(i).log(), {"the lease of 192.0.2.26", "ran out: draining"}),
              Fleet::name(i) + " ended the lease itself");
}

namespace {

// A zone whose ver.NAME answers `address`; serial `serial`.
std::string versioned_zone(const std::string& zone, uint32_t serial, const std::string& address) {
    return R"({ "zone": ")" + zone + R"(",
  "soa": { "mname": "ns1", "rname": "hostmaster.)" + zone + R"(.", "serial": )" + std::to_string(serial) + R"( },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] }, "ver": { "A": [")" + address + R"("] } } })";
}

// The revision in `pushed N zone file(s) to the fleet (revision R)` when N
// is `files`, or nullopt.
std::optional<uint64_t> pushed_revision(const std::string& out, size_t files) {
    static const std::regex said(R"(pushed (\d+) zone files? to the fleet \(revision (\d+)\))");
    std::smatch match;
    if (!std::regex_search(out, match, said) || std::stoul(match[1]) != files) return std::nullopt;
    return std::stoull(match[2]);
}

std::optional<uint64_t> zones_revision(const Dnsd& node) {
    const json fleet = get_json(node, "/v1/fleet");
    if (!fleet["zones_revision"].is_number()) return std::nullopt;
    return fleet["zones_revision"].get<uint64_t>();
}

}  // namespace

TEST_CASE("fleet: dnsd push reaches every node with shared zones, and an invalid push changes nothing", "[fleet]") {
    NatsServer nats;
    Fleet::Options options;
    options.zones = "shared";
    Fleet fleet(nats, options);
    const auto everyone = all_of(fleet);
    check(fleet, eventually([&] { return all_say(fleet, everyone, "connected"); }), "all connected", true);
    // Nothing pushed yet, nothing cached: no zones at all (the zones_dir,
    // which has pools.test, is ignored).
    for (size_t i : everyone) CHECK(refuses(fleet.node(i), rr));

    TempDir push;
    const auto config = push.write("dnsd.json", json{{"fleet", {{"nats", {nats.url()}}}}}.dump());
    auto push_dir = [&](const std::filesystem::path& dir) {
        return run_command({DNSD_BINARY, "push", "--config", config.string(), "--zones", dir.string()}, 30s);
    };

    TempDir v1;
    v1.write("push.test.json", versioned_zone("push.test", 1, "192.0.2.1"));
    v1.write("other.test.json", versioned_zone("other.test", 1, "192.0.2.101"));
    const CommandResult first = push_dir(v1.path());
    INFO(first.out << first.err);
    REQUIRE(first.exit_code == 0);
    const auto revision = pushed_revision(first.out, 2);
    REQUIRE(revision);
    const auto served = time_until([&] {
        return all_answer(fleet, everyone, "ver.push.test", {"192.0.2.1"}) &&
               all_answer(fleet, everyone, "ver.other.test", {"192.0.2.101"});
    });
    check(fleet, served.has_value(), "push served by all");
    report("a push to served by all 3 nodes", served);
    for (size_t i : everyone) CHECK(zones_revision(fleet.node(i)) == revision);

    // One invalid file: every problem is printed, nothing is published.
    TempDir bad;
    bad.write("push.test.json", versioned_zone("push.test", 2, "192.0.2.2"));
    bad.write("broken.test.json", R"({ "zone": "broken.test",
  "soa": { "mname": "ns1", "rname": "hostmaster.broken.test.", "serial": 1 },
  "tll": 30,
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] } } })");
    const CommandResult rejected = push_dir(bad.path());
    INFO(rejected.out << rejected.err);
    CHECK(rejected.exit_code == 1);
    CHECK((rejected.out + rejected.err).find((bad.path() / "broken.test.json").string() + ":3:3: unknown key \"tll\"") !=
          std::string::npos);
    CHECK((rejected.out + rejected.err).find("to the fleet (revision") == std::string::npos);
    for (size_t i : everyone) {
        CHECK(zones_revision(fleet.node(i)) == revision);
        CHECK(answer(fleet.node(i), "ver.push.test") == Addresses{"192.0.2.1"});
    }

    // The next push is the next revision of the zones: the rejected one stored
    // nothing in between.
    TempDir v3;
    v3.write("push.test.json", versioned_zone("push.test", 3, "192.0.2.3"));
    const CommandResult third = push_dir(v3.path());
    INFO(third.out << third.err);
    REQUIRE(third.exit_code == 0);
    CHECK(pushed_revision(third.out, 1) == *revision + 1);
    // The whole directory replaces the last: other.test is gone.
    check(fleet, eventually([&] {
        if (!all_answer(fleet, everyone, "ver.push.test", {"192.0.2.3"})) return false;
        for (size_t i : everyone)
            if (!refuses(fleet.node(i), "ver.other.test")) return false;
        return true;
    }), "the third push served by all");

    // The last zones received are cached: a node restarting without NATS serves them.
    nats.stop();
    CHECK(fleet.stop(2) == 0);
    fleet.start(2);
    CHECK(answer(fleet.node(2), "ver.push.test") == Addresses{"192.0.2.3"});
    CHECK(connection(fleet.node(2)) != "connected");
}

TEST_CASE("fleet: NATS killed and restarted under query load: no query lost, the nodes rejoin", "[fleet]") {
    NatsServer nats;
    Fleet fleet(nats, {});
    const auto everyone = all_of(fleet);
    check(fleet, eventually([&] { return all_say(fleet, everyone, "connected"); }), "all connected", true);
    put_override(fleet.node(0), "192.0.2.23", "down");
    const Addresses drained = without(rr_v4, {"192.0.2.23"});
    check(fleet, eventually([&] { return all_answer(fleet, everyone, rr, drained); }), "drain reached all", true);

    // One query at a time to each node in turn, a millisecond apart per round:
    // a steady load, bounded by the answers.
    std::atomic<bool> stop{false};
    size_t queries = 0;
    std::vector<std::string> lost;
    std::vector<uint16_t> ports;
    for (size_t i : everyone) ports.push_back(fleet.node(i).port());
    std::thread load([&] {
        for (uint16_t id = 1; !stop; ++id) {
            for (size_t i = 0; i < ports.size(); ++i) {
                ++queries;
                const auto bytes = udp_exchange(ports[i], make_query(id, rr, rrtype::A));
                const auto response = bytes ? parse_response(*bytes) : std::nullopt;
                if (!response || response->header.rcode() != rcode::noerror || response->answer_addresses.empty())
                    lost.push_back(Fleet::name(i) + (response ? " rcode " + std::to_string(response->header.rcode())
                                                              : " no answer"));
            }
            std::this_thread::sleep_for(1ms);  // the load's pace
        }
    });
    // Stops the load however the test ends.
    struct Join {
        std::atomic<bool>& stop;
        std::thread& thread;
        ~Join() {
            stop = true;
            if (thread.joinable()) thread.join();
        }
    } join{stop, load};

    nats.kill();
    const auto isolated = time_until([&] { return all_say(fleet, everyone, "isolated"); });
    check(fleet, isolated.has_value(), "all isolated");
    report("NATS killed to all 3 nodes isolated", isolated);
    for (size_t i : everyone) {
        check(fleet, has_line_with(fleet.node(i).log(), {"fleet: ", "lost", "isolated"}),
              Fleet::name(i) + " logs the lost connection");
        // The last shared state stays.
        CHECK(answer(fleet.node(i), rr) == drained);
        const HttpResponse metrics = http_request(fleet.node(i).http_port(), "GET", "/metrics");
        CHECK(metrics.body.find("\ndnsd_fleet_connected 0\n") != std::string::npos);
    }

    nats.start();
    const auto rejoined = time_until([&] { return all_say(fleet, everyone, "connected"); });
    check(fleet, rejoined.has_value(), "all rejoined");
    report("NATS restarted to all 3 nodes connected", rejoined);
    put_override(fleet.node(1), "192.0.2.21", "down");
    const auto converged = time_until([&] { return all_answer(fleet, everyone, rr, without(drained, {"192.0.2.21"})); });
    check(fleet, converged.has_value(), "drain after rejoin reached all");
    report("after the restart, a drain on ns2 to out of the answers of all 3 nodes", converged);

    stop = true;
    load.join();
    std::cerr << "fleet e2e: " << queries << " queries during the NATS outage and rejoin, " << lost.size()
              << " lost\n";
    INFO(Catch::Detail::stringify(lost));
    CHECK(lost.empty());
    CHECK(queries > 100);
}

namespace {

// nftables rules in a table of the test's own, deleted when it goes.
class Firewall {
public:
    Firewall() {
        nft("add table inet " + table);
        nft("add chain inet " + table + " output { type filter hook output priority 0 ; }");
    }
    ~Firewall() { run_command({"nft", "delete table inet " + table}); }
    Firewall(const Firewall&) = delete;
    Firewall& operator=(const Firewall&) = delete;

    // TCP connections from the processes of `user` to address:port are reset.
    void block(uid_t user, const std::string& address, uint16_t port) {
        nft("add rule inet " + table + " output meta skuid " + std::to_string(user) + " ip daddr " + address +
            " tcp dport " + std::to_string(port) + " reject with tcp reset");
    }
    void clear() { nft("flush chain inet " + table + " output"); }

private:
    static void nft(const std::string& command) {
        const CommandResult result = run_command({"nft", command});
        INFO("nft " << command << ": " << result.out << result.err);
        REQUIRE(result.exit_code == 0);
    }
    const std::string table = "dnsd_fleet_test";
};

// The member `address` of web.quorum.test as the node's /v1/status shows it; null if missing.
json member_status(const Dnsd& node, const std::string& address) {
    const json status = get_json(node, "/v1/status");
    for (const auto& pool : status["pools"])
        if (pool["zone"] == "quorum.test" && pool["pool"] == "web")
            for (const auto& member : pool["members"])
                if (member["address"] == address) return member;
    return nullptr;
}

// Every node shows these votes for `address`.
bool all_see_votes(const Fleet& fleet, const std::string& address, const json& votes) {
    for (size_t i : all_of(fleet))
        if (member_status(fleet.node(i), address).value("votes", json()) != votes) return false;
    return true;
}

// The value of the dnsd_fleet_member_down_votes sample for `address`, or -1.
double down_votes(const Dnsd& node, const std::string& address) {
    const std::string body = http_request(node.http_port(), "GET", "/metrics").body;
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with("dnsd_fleet_member_down_votes{") && line.find("\"" + address + "\"") != std::string::npos)
            return std::stod(line.substr(line.rfind(' ') + 1));
    return -1;
}

}  // namespace

TEST_CASE("fleet: with a majority quorum, one node's failed probes leave the member in every answer, two nodes' "
          "take it out everywhere",
          "[fleet][quorum]") {
    if (::geteuid() != 0 || !only_loopback()) {
        WARN("skipped: needs root in a network namespace of its own to run nodes as other users and add nftables "
             "rules (unshare --net -- bash -c 'ip link set lo up && build/asan/tests/dnsd_e2e \"[fleet]\"')");
        return;
    }
    // The probed member: a plain dnsd listening on 127.0.0.2, so a TCP check
    // connects; 127.0.0.3 is forced up, so the answer is never empty.
    DnsdOptions service;
    service.listen = {"127.0.0.2:0"};
    service.extra_args = {"--threads", "1"};
    Dnsd member(service);
    const uint16_t port = member.port("127.0.0.2", "tcp");
    TempDir zones;
    std::filesystem::permissions(zones.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                   std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                                   std::filesystem::perms::others_exec);
    zones.write("quorum.test.json", R"({ "zone": "quorum.test",
  "soa": { "mname": "ns1", "rname": "hostmaster.quorum.test.", "serial": 1 },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] }, "web": { "pool": "web" } },
  "pools": { "web": {
    "check": { "type": "tcp", "port": )" + std::to_string(port) + R"(, "interval": 1, "timeout": 0.5, "rise": 2, "fall": 2 },
    "members": [ { "address": "127.0.0.2" }, { "address": "127.0.0.3", "state": "up" } ] } } })");

    // Three nodes, each as a user of its own: the firewall tells them apart.
    const std::vector<uid_t> users{60001, 60002, 60003};
    NatsServer nats;
    Fleet::Options options;
    options.zones_dir = zones.path();
    options.users = users;
    Fleet fleet(nats, options);
    const auto everyone = all_of(fleet);
    const std::string web = "web.quorum.test";
    const Addresses both{"127.0.0.2", "127.0.0.3"}, forced_only{"127.0.0.3"};
    check(fleet, eventually([&] { return all_say(fleet, everyone, "connected"); }), "all connected", true);
    check(fleet, eventually([&] {
        return all_see_votes(fleet, "127.0.0.2", {{"ns1", "up"}, {"ns2", "up"}, {"ns3", "up"}});
    }), "every node sees three up votes", true);
    CHECK(all_answer(fleet, everyone, web, both));

    Firewall firewall;
    // One node cannot reach the member: one down vote of three is no majority.
    firewall.block(users[0], "127.0.0.2", port);
    const json one_down{{"ns1", "down"}, {"ns2", "up"}, {"ns3", "up"}};
    check(fleet, eventually([&] { return all_see_votes(fleet, "127.0.0.2", one_down); }), "every node sees ns1's down vote",
          true);
    for (size_t i : everyone) {
        const json status = member_status(fleet.node(i), "127.0.0.2");
        CHECK(status["fleet_health"] == "up");
        CHECK(status["health"] == "up");
        CHECK(answer(fleet.node(i), web) == both);
        CHECK(down_votes(fleet.node(i), "127.0.0.2") == 1);
    }
    const json explained = get_json(fleet.node(0), "/v1/explain?name=" + web + "&type=A&client=192.0.2.1");
    CHECK(explained.dump().find(R"("votes":{"ns1":"down","ns2":"up","ns3":"up"})") != std::string::npos);
    CHECK(explained.dump().find(R"("fleet_health":"up")") != std::string::npos);

    // Cut off from NATS, each node falls back to its own verdict: only ns1
    // drops the member. Back with NATS, the fleet verdict again.
    nats.kill();
    check(fleet, eventually([&] {
        return answer(fleet.node(0), web) == forced_only && all_answer(fleet, {1, 2}, web, both);
    }), "isolated nodes answer from their own verdicts");
    nats.start();
    check(fleet, eventually([&] { return all_say(fleet, everyone, "connected") && all_answer(fleet, everyone, web, both); }),
          "rejoined nodes answer from the fleet verdict again");

    // Two nodes of three: a majority, the member leaves every answer.
    firewall.block(users[1], "127.0.0.2", port);
    const auto removed = time_until([&] { return all_answer(fleet, everyone, web, forced_only); });
    check(fleet, removed.has_value(), "two down votes take the member out everywhere");
    report("second node's failure to the member out of all 3 nodes' answers", removed);
    const json two_down{{"ns1", "down"}, {"ns2", "down"}, {"ns3", "up"}};
    for (size_t i : everyone) {
        const json status = member_status(fleet.node(i), "127.0.0.2");
        CHECK(status["votes"] == two_down);
        CHECK(status["fleet_health"] == "down");
        CHECK(status["health"] == "down");
    }

    // Reachable again from everywhere: back in every answer.
    firewall.clear();
    check(fleet, eventually([&] { return all_answer(fleet, everyone, web, both); }), "the member back everywhere");
}

namespace {

// The first address node answers `name` `type` with, for a client in `subnet`
// (ECS); empty when none.
std::string first_address(const Dnsd& node, const std::string& name, const std::string& type,
                          const std::string& subnet) {
    const DigResult result = dig(node.port(), {name, type, "+subnet=" + subnet});
    return result.answered && result.status == "NOERROR" && !result.answer.empty() ? result.answer.front().rdata : "";
}

HttpResponse post_beacons(const Dnsd& node, const std::string& client, const std::string& region, double rtt_ms,
                          int times) {
    json list = json::array();
    for (int i = 0; i < times; ++i) list.push_back({{"client", client}, {"region", region}, {"rtt_ms", rtt_ms}});
    return http_request(node.http_port(), "POST", "/v1/latency", list.dump());
}

// The beacons node counts for `region` from `client`'s network, as explain says.
json samples(const Dnsd& node, const std::string& name, const std::string& client, const std::string& region) {
    const json report = get_json(node, "/v1/explain?name=" + name + "&type=A&client=" + client);
    for (const json& rtt : report["latency"]["regions"])
        if (rtt["region"] == region) return rtt["samples"];
    return nullptr;
}

}  // namespace

// Pool web of tests/data/e2e/latency/zones routes by latency, one member per
// region and family; the GeoIP fixture places 2001:4860::/32 and
// 198.51.100.0/24 in the US, so until beacons say otherwise geo answers us
// (2001:db8::3, 192.0.2.3). Latency min_samples is 3.
TEST_CASE("fleet: latency beacons posted to any node move every node's answers, and a later node's", "[fleet][latency]") {
    NatsServer nats;
    Fleet::Options options;
    options.nodes = 2;
    options.zones_dir = data_dir() / "latency" / "zones";
    options.config = {{"geoip", (std::filesystem::path(DNSD_SOURCE_DIR) / "tests/data/geoip/geoip2.mmdb").string()},
                      {"regions",
                       {{"eu", {{"continents", {"EU", "AF"}}, {"location", {50.11, 8.68}}}},
                        {"us", {{"continents", {"NA", "SA"}}, {"location", {39.04, -77.49}}}},
                        {"ap", {{"continents", {"AS", "OC"}}, {"location", {1.35, 103.82}}}}}},
                      {"default_region", "us"},
                      {"latency", {{"half_life", 3600}, {"min_samples", 3}}}};
    Fleet fleet(nats, options);
    check(fleet, eventually([&] { return all_say(fleet, all_of(fleet), "connected"); }), "all connected", true);
    const std::string web = "web.latency.test", v6_client = "2001:4860:1::/56", v4_client = "198.51.100.0/24";
    for (size_t i : all_of(fleet)) {
        CHECK(first_address(fleet.node(i), web, "AAAA", v6_client) == "2001:db8::3");
        CHECK(first_address(fleet.node(i), web, "A", v4_client) == "192.0.2.3");
    }

    // Beacons for one network, all posted to ns1: eu is faster. ns2 got none.
    REQUIRE(post_beacons(fleet.node(0), "2001:4860:1::7", "eu", 20, 3).status == 200);
    REQUIRE(post_beacons(fleet.node(0), "2001:4860:1::7", "us", 95, 3).status == 200);
    const auto moved = time_until([&] { return first_address(fleet.node(1), web, "AAAA", v6_client) == "2001:db8::2"; });
    check(fleet, moved.has_value(), "ns1's beacons moved ns2's answer");
    report("beacons on ns1 to ns2's answer", moved);
    const DigResult scoped = dig(fleet.node(1).port(), {web, "AAAA", "+subnet=" + v6_client});
    INFO(scoped.output);
    CHECK(scoped.client_subnet.value_or("").ends_with("/48"));  // the measured network's prefix

    // Beacons for another network split over both nodes, posted at once:
    // neither node alone has min_samples, both together have.
    std::thread to_ns1([&] { CHECK(post_beacons(fleet.node(0), "198.51.100.77", "ap", 12, 1).status == 200); });
    std::thread to_ns2([&] { CHECK(post_beacons(fleet.node(1), "198.51.100.9", "ap", 14, 2).status == 200); });
    to_ns1.join();
    to_ns2.join();
    check(fleet, eventually([&] {
              return first_address(fleet.node(0), web, "A", v4_client) == "192.0.2.4" &&
                     first_address(fleet.node(1), web, "A", v4_client) == "192.0.2.4";
          }),
          "beacons split over both nodes count together on both");
    for (size_t i : all_of(fleet)) CHECK(samples(fleet.node(i), web, "198.51.100.1", "ap") == 3);

    // A node started later gets every measurement from NATS.
    const size_t late = fleet.add();
    check(fleet, eventually([&] {
              return first_address(fleet.node(late), web, "AAAA", v6_client) == "2001:db8::2" &&
                     first_address(fleet.node(late), web, "A", v4_client) == "192.0.2.4";
          }),
          "ns3 answers as the others");
    // A neighbouring network was never measured: geo's answer everywhere.
    for (size_t i : all_of(fleet)) CHECK(first_address(fleet.node(i), web, "AAAA", "2001:4860:2::/56") == "2001:db8::3");

    // A restarted node counts its own beacons once: the aggregates it kept
    // in its state directory and its records in NATS are the same beacons.
    CHECK(fleet.stop(1) == 0);
    fleet.start(1);
    check(fleet, eventually([&] { return first_address(fleet.node(1), web, "A", v4_client) == "192.0.2.4"; }),
          "restarted ns2 answers as before");
    // Its own 2 and ns1's 1, once ns1's have come (they come in one snapshot with its own).
    CHECK(samples(fleet.node(1), web, "198.51.100.1", "ap") == 3);
    CHECK(samples(fleet.node(late), web, "198.51.100.1", "ap") == 3);

    // A node whose state directory lost its measurements takes its own back
    // from NATS, once, and keeps them again.
    CHECK(fleet.stop(0) == 0);
    REQUIRE(std::filesystem::remove(fleet.state_dir(0) / "latency-measurements.csv"));
    fleet.start(0);
    check(fleet, eventually([&] {
              return first_address(fleet.node(0), web, "AAAA", v6_client) == "2001:db8::2" &&
                     first_address(fleet.node(0), web, "A", v4_client) == "192.0.2.4";
          }),
          "ns1 answers as before from its records in NATS");
    CHECK(samples(fleet.node(0), web, "2001:4860:1::1", "eu") == 3);
    CHECK(samples(fleet.node(0), web, "198.51.100.1", "ap") == 3);
    check(fleet, eventually([&] { return std::filesystem::exists(fleet.state_dir(0) / "latency-measurements.csv"); }),
          "ns1 keeps its measurements again");
}

}  // namespace dnsd::e2e
