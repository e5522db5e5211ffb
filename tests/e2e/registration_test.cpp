// Registrations with leases (SPEC §11) against the real binary: a PUT adds or
// renews a member, a lease that runs out or a DELETE takes it out through a
// drain, registrations survive a restart until their lease ends, every call
// needs the token, and a member registered in a checked pool is answered only
// once a probe to it has succeeded (here TCP probes to listeners the test opens
// on 127.0.0.3; nothing listens on 127.0.0.4). Every wait polls with a
// generous deadline; none asserts how fast anything is.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

using nlohmann::json;
using Addresses = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

constexpr auto patience = 30s;
const std::string token = "elastic-token";
const HttpHeaders authorized{{"Authorization", "Bearer " + token}};

// web: no check; checked: a TCP check on `port` of every member, each second.
std::string elastic_zone(uint16_t port) {
    return R"({
  "zone": "elastic.test", "ttl": 30,
  "soa": {"mname": "ns1", "rname": "hostmaster.elastic.test.", "serial": 1},
  "records": {"@": {"NS": ["ns1"]}, "ns1": {"A": ["192.0.2.53"]}, "web": {"pool": "web"}, "checked": {"pool": "checked"}},
  "pools": {
    "web": {"ttl": 2, "members": [{"address": "192.0.2.1"}]},
    "checked": {"ttl": 2, "degraded_ttl": 1,
                "check": {"type": "tcp", "port": )" + std::to_string(port) + R"(, "interval": 1, "timeout": 0.5, "rise": 2, "fall": 2},
                "members": [{"address": "127.0.0.2"}]}
  }
})";
}

struct Setup {
    TempDir dir;
    std::filesystem::path state_dir = dir.path() / "state";
    explicit Setup(uint16_t port = 9) { dir.write("zones/elastic.test.json", elastic_zone(port)); }

    Dnsd start() const {
        DnsdOptions options;
        options.zones_dir = dir.path() / "zones";
        options.state_dir = state_dir;
        options.config_json = R"({"http_token": ")" + token + R"(", "regions": {"eu": {"countries": ["DE"]}}})";
        options.extra_args = {"--threads", "2"};
        return Dnsd(options);
    }
};

Addresses answer(const Dnsd& server, const std::string& name) {
    Addresses addresses = udp_response(server.port(), make_query(1, name, rrtype::A)).answer_addresses;
    std::sort(addresses.begin(), addresses.end());
    return addresses;
}

std::string registration(const std::string& pool, const std::string& address) {
    return "/v1/zones/elastic.test/pools/" + pool + "/registrations/" + address;
}

HttpResponse put(const Dnsd& server, const std::string& pool, const std::string& address, const std::string& body) {
    return http_request(server.http_port(), "PUT", registration(pool, address), body, authorized);
}

json get_json(const Dnsd& server, const std::string& path) {
    const HttpResponse response = http_request(server.http_port(), "GET", path);
    INFO(response.body);
    REQUIRE(response.status == 200);
    return json::parse(response.body);
}

json status_member(const Dnsd& server, const std::string& pool, const std::string& address) {
    const json status = get_json(server, "/v1/status");
    for (const json& shown : status["pools"])
        if (shown["pool"] == pool)
            for (const json& member : shown["members"])
                if (member["address"] == address) return member;
    return nullptr;
}

// Polls `done` until it holds or patience runs out.
bool eventually(const std::function<bool()>& done) {
    for (const auto deadline = Clock::now() + patience; Clock::now() < deadline; std::this_thread::sleep_for(50ms))
        if (done()) return true;
    return done();
}

// A TCP port listening on `address` (the kernel completes the handshakes a
// TCP probe needs; nothing accepts), closed by the destructor.
class Listening {
public:
    Listening(const std::string& address, uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        ::inet_pton(AF_INET, address.c_str(), &in.sin_addr);
        socklen_t size = sizeof in;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0 || ::listen(fd_, 256) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &size) != 0) {
            const std::string error = std::strerror(errno);
            ::close(fd_);
            throw std::runtime_error("cannot listen on " + address + ": " + error);
        }
        port_ = ntohs(in.sin_port);
    }
    ~Listening() { ::close(fd_); }
    Listening(const Listening&) = delete;
    Listening& operator=(const Listening&) = delete;
    uint16_t port() const { return port_; }

private:
    int fd_;
    uint16_t port_ = 0;
};

}  // namespace

TEST_CASE("registrations: add, renew and deregister, each shown with its source, the token is required",
          "[e2e][registrations]") {
    const Setup setup;
    Dnsd server = setup.start();
    CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1"});

    const HttpResponse anonymous = http_request(server.http_port(), "PUT", registration("web", "192.0.2.7"), R"({"lease": 60})");
    CHECK(anonymous.status == 401);
    CHECK(http_request(server.http_port(), "DELETE", registration("web", "192.0.2.7")).status == 401);
    CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1"});

    const HttpResponse added = put(server, "web", "192.0.2.7", R"({"lease": 60, "region": "eu", "weight": 2})");
    INFO(added.body);
    REQUIRE(added.status == 201);
    CHECK(json::parse(added.body)["result"] == "added");
    // In force when the PUT is answered: no check to wait for in this pool.
    CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1", "192.0.2.7"});

    const json status = get_json(server, "/v1/status");
    REQUIRE(status["registrations"].size() == 1);
    CHECK(status["registrations"][0]["address"] == "192.0.2.7");
    CHECK(status["registrations"][0]["region"] == "eu");
    CHECK(status["registrations"][0]["expires_at"].is_string());
    CHECK(status_member(server, "web", "192.0.2.7")["source"] == "registration");
    CHECK(status_member(server, "web", "192.0.2.1")["source"] == "zone");
    const json explained = get_json(server, "/v1/explain?name=web.elastic.test&type=A&client=192.0.2.99");
    const json& members = explained["pool"]["members"];
    CHECK(std::any_of(members.begin(), members.end(),
                      [](const json& m) { return m["address"] == "192.0.2.7" && m["source"] == "registration"; }));
    const std::string metrics = http_request(server.http_port(), "GET", "/metrics").body;
    CHECK(metrics.find(R"(dnsd_member_source{zone="elastic.test",pool="web",member="192.0.2.7",source="registration"} 1)") !=
          std::string::npos);
    CHECK(metrics.find(R"(dnsd_pool_members{zone="elastic.test",pool="web",source="registration"} 1)") != std::string::npos);

    const HttpResponse renewed = put(server, "web", "192.0.2.7", R"({"lease": 120, "region": "eu", "weight": 2})");
    CHECK(renewed.status == 200);
    CHECK(json::parse(renewed.body)["result"] == "renewed");

    // What cannot be registered: each a 4xx with a reason.
    const auto refused = [&](const std::string& pool, const std::string& address, const std::string& body) {
        const HttpResponse response = put(server, pool, address, body);
        INFO(response.body);
        CHECK(json::parse(response.body)["error"].is_string());
        return response.status;
    };
    CHECK(refused("web", "not-an-address", R"({"lease": 60})") == 400);
    CHECK(refused("web", "::ffff:192.0.2.8", R"({"lease": 60})") == 400);
    CHECK(refused("web", "192.0.2.8", R"({"lease": 0})") == 400);
    CHECK(refused("web", "192.0.2.8", R"({"lease": 86401})") == 400);
    CHECK(refused("web", "192.0.2.8", R"({"lease": 60, "region": "mars"})") == 400);
    CHECK(refused("web", "192.0.2.8", R"({"lease": )") == 400);
    CHECK(refused("www", "192.0.2.8", R"({"lease": 60})") == 404);
    CHECK(http_request(server.http_port(), "PUT", "/v1/zones/nowhere.test/pools/web/registrations/192.0.2.8",
                       R"({"lease": 60})", authorized).status == 404);
    CHECK(refused("web", "192.0.2.1", R"({"lease": 60})") == 409);
    CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1", "192.0.2.7"});

    // Deregistered: out of the answers at once, draining for the 2 s TTL handed out.
    const HttpResponse removed = http_request(server.http_port(), "DELETE", registration("web", "192.0.2.7"), "", authorized);
    INFO(removed.body);
    REQUIRE(removed.status == 200);
    const json drained = json::parse(removed.body);
    CHECK(drained["state"] == "removed");
    CHECK(drained["draining"] == true);
    CHECK(drained["safe_to_remove_at"].is_string());
    CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1"});
    CHECK(get_json(server, "/v1/status")["registrations"].empty());
    CHECK(http_request(server.http_port(), "DELETE", registration("web", "192.0.2.7"), "", authorized).status == 404);
    CHECK(eventually([&] {
        return get_json(server, "/v1/zones/elastic.test/pools/web/members/192.0.2.7")["draining"] == false;
    }));
}

TEST_CASE("registrations: a lease that runs out takes the member out through a drain", "[e2e][registrations]") {
    const Setup setup;
    Dnsd server = setup.start();
    REQUIRE(put(server, "web", "192.0.2.7", R"({"lease": 2})").status == 201);
    CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1", "192.0.2.7"});
    CHECK(eventually([&] { return answer(server, "web.elastic.test") == Addresses{"192.0.2.1"}; }));
    const json member = get_json(server, "/v1/zones/elastic.test/pools/web/members/192.0.2.7");
    CHECK(member["state"] == "removed");
    CHECK(member["out_since"].is_string());
    CHECK(server.log().find("registrations: the lease of 192.0.2.7 in elastic.test/web ran out: draining") !=
          std::string::npos);
}

TEST_CASE("registrations: kept in the state directory across a restart until their lease runs out",
          "[e2e][registrations][state]") {
    const Setup setup;
    {
        Dnsd server = setup.start();
        REQUIRE(put(server, "web", "192.0.2.7", R"({"lease": 600})").status == 201);
        REQUIRE(put(server, "web", "2001:db8::8", R"({"lease": 1})").status == 201);
        // The short lease ends before the restart.
        REQUIRE(eventually([&] { return get_json(server, "/v1/status")["registrations"].size() == 1; }));
        CHECK(server.stop() == 0);
    }
    const json file = json::parse(read_text(setup.state_dir / "registrations.json"));
    CHECK(file["version"] == 1);
    REQUIRE(file["registrations"].size() == 1);
    CHECK(file["registrations"][0]["address"] == "192.0.2.7");
    {
        Dnsd server = setup.start();
        // The first query after the restart has it.
        CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1", "192.0.2.7"});
        CHECK(server.log().find("state: 1 registration restored from " +
                                (setup.state_dir / "registrations.json").string()) != std::string::npos);
        const json kept = get_json(server, "/v1/status")["registrations"];
        REQUIRE(kept.size() == 1);
        CHECK(kept[0]["expires_in_seconds"] > 500);
        CHECK(status_member(server, "web", "192.0.2.7")["source"] == "registration");
    }
}

TEST_CASE("registrations: in a checked pool a newcomer is answered only once a probe to it succeeded",
          "[e2e][registrations][health]") {
    // The port every member is probed on; nothing listens on it until the test says.
    uint16_t port = 0;
    { port = Listening("127.0.0.3", 0).port(); }
    const Setup setup(port);
    Dnsd server = setup.start();
    // 127.0.0.2 was there at start-up: it starts up, though nothing listens.
    CHECK(answer(server, "checked.elastic.test") == Addresses{"127.0.0.2"});

    REQUIRE(put(server, "checked", "127.0.0.3", R"({"lease": 600})").status == 201);
    REQUIRE(put(server, "checked", "127.0.0.4", R"({"lease": 600})").status == 201);
    CHECK(status_member(server, "checked", "127.0.0.3")["health"] == "pending");
    // Probed and failed, and 127.0.0.2 down meanwhile (fail open): neither newcomer is answered.
    const auto probed_and_failed = [&](const std::string& address) {
        return status_member(server, "checked", address)["last_result"] == "failure";
    };
    REQUIRE(eventually([&] {
        const Addresses answered = answer(server, "checked.elastic.test");
        CHECK(answered == Addresses{"127.0.0.2"});
        return probed_and_failed("127.0.0.3") && probed_and_failed("127.0.0.4") &&
               status_member(server, "checked", "127.0.0.2")["health"] == "down";
    }));
    CHECK(answer(server, "checked.elastic.test") == Addresses{"127.0.0.2"});
    CHECK(status_member(server, "checked", "127.0.0.3")["health"] == "pending");

    // Something listens on 127.0.0.3: answered once a probe succeeds, and alone.
    const Listening listening("127.0.0.3", port);
    Addresses last;
    CHECK(eventually([&] {
        last = answer(server, "checked.elastic.test");
        return last == Addresses{"127.0.0.3"};
    }));
    INFO("last answer: " << last.size());
    CHECK(status_member(server, "checked", "127.0.0.3")["health"] == "up");
    CHECK(status_member(server, "checked", "127.0.0.4")["health"] == "pending");
    const std::string metrics = http_request(server.http_port(), "GET", "/metrics").body;
    CHECK(metrics.find(R"(dnsd_pool_members_pending{zone="elastic.test",pool="checked",source="registration"} 1)") !=
          std::string::npos);
}

}  // namespace dnsd::e2e

namespace dnsd::e2e {

TEST_CASE("registrations: dnsd drain --wait ends a registration and returns once it is safe to remove",
          "[e2e][registrations][drain]") {
    const Setup setup;
    Dnsd server = setup.start();
    REQUIRE(put(server, "web", "192.0.2.7", R"({"lease": 600})").status == 201);
    CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1", "192.0.2.7"});  // handed out: a 2 s TTL
    const CommandResult drained =
        run_command({DNSD_BINARY, "drain", "--http", "127.0.0.1:" + std::to_string(server.http_port()), "--token", token,
                     "elastic.test", "web", "192.0.2.7", "--wait"},
                    30s);
    INFO(drained.out << drained.err);
    CHECK(drained.exit_code == 0);
    CHECK(drained.out.find("192.0.2.7 in elastic.test/web: safe to remove") != std::string::npos);
    CHECK(answer(server, "web.elastic.test") == Addresses{"192.0.2.1"});
    CHECK(get_json(server, "/v1/status")["registrations"].empty());
    // No override was left behind to outlive the instance.
    CHECK(get_json(server, "/v1/status")["overrides"].empty());
}

}  // namespace dnsd::e2e
