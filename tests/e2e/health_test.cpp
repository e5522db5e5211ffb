// Health checks end to end (SPEC §5, §4 step 3): the real binary probes TCP,
// HTTP, HTTPS and DNS servers that the test runs on 127.0.0.2-127.0.0.5 and
// opens, closes and changes; answers follow health, come back after rise
// successes, and every query sent meanwhile is answered. These tests check
// what happens, not how fast: how soon probes come is ProbeSchedule's, tested
// with a clock of its own (tests/unit/schedule_test.cpp). Checks run every
// second so that the whole file takes well under a minute; every wait polls
// with a generous deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <catch2/catch.hpp>
#include <cstring>
#include <functional>
#include <iostream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using Addresses = std::set<std::string>;
using Seconds = std::chrono::duration<double>;

// How long a wait for something the probes bring about may take before the
// test gives up: many rounds of the one-second checks below, however busy the
// machine.
constexpr double patience_s = 30;

// Every check probes each second, times out after half a second, and takes
// two results in a row to change a member's health.
std::string check_json(const std::string& type, uint16_t port, const std::string& extra = "") {
    return R"({ "type": ")" + type + R"(", "port": )" + std::to_string(port) +
           R"(, "interval": 1, "timeout": 0.5, "rise": 2, "fall": 2)" + extra + " }";
}

// A zone with the given pools ({name, JSON body}); each pool's name is also a
// name in the zone answered by it.
std::string zone_json(const std::string& zone, uint32_t serial,
                      const std::vector<std::pair<std::string, std::string>>& pools) {
    std::string records = R"("@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] })";
    std::string bodies;
    for (const auto& [name, body] : pools) {
        records += ", \"" + name + "\": { \"pool\": \"" + name + "\" }";
        bodies += std::string(bodies.empty() ? "" : ", ") + "\"" + name + "\": " + body;
    }
    return R"({ "zone": ")" + zone + R"(", "ttl": 30,
  "soa": { "mname": "ns1", "rname": "hostmaster.)" + zone + R"(.", "serial": )" + std::to_string(serial) + R"( },
  "records": { )" + records + R"( },
  "pools": { )" + bodies + " } }";
}

std::string pool_json(const std::string& check, const std::string& members) {
    return R"({ "ttl": 20, "degraded_ttl": 5, "check": )" + check + R"(, "members": [)" + members + "] }";
}

sockaddr_in socket_address(const std::string& address, uint16_t port) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &in.sin_addr) != 1) throw std::runtime_error("bad address " + address);
    return in;
}

// A TCP port the test opens and closes. A thread accepts connections, counts
// them and hands each to `serve`, which owns the descriptor.
class TestServer {
public:
    using Serve = std::function<void(int fd)>;

    // port 0: an ephemeral one, kept for later open() calls.
    TestServer(std::string address, uint16_t port, Serve serve)
        : address_(std::move(address)), port_(port), serve_(std::move(serve)) {
        // A probe that hangs up before the response is written (its timeout,
        // a reload) must not kill the test with SIGPIPE; SSL_write takes no
        // MSG_NOSIGNAL, so the process ignores the signal.
        std::signal(SIGPIPE, SIG_IGN);
        open();
    }
    ~TestServer() { close(); }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    uint16_t port() const { return port_; }
    size_t accepted() const { return accepted_; }

    void open() {
        // Not inherited by the dnsd processes the test starts, which would
        // keep the port listening after close().
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in in = socket_address(address_, port_);
        socklen_t size = sizeof in;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0 || ::listen(fd_, 64) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &size) != 0)
        {
            const std::string error = std::strerror(errno);
            ::close(fd_);
            fd_ = -1;
            throw std::runtime_error("cannot listen on " + address_ + ": " + error);
        }
        port_ = ntohs(in.sin_port);
        stop_ = false;
        thread_ = std::thread([this] { run(); });
    }

    // After close(), connecting is refused.
    void close() {
        if (fd_ < 0) return;
        stop_ = true;
        thread_.join();
        ::close(fd_);
        fd_ = -1;
    }

private:
    void run() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            ++accepted_;
            // Bounds every read and write in `serve`.
            const timeval two_seconds{2, 0};
            ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
            ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &two_seconds, sizeof two_seconds);
            serve_(client);
        }
    }

    const std::string address_;
    uint16_t port_;
    const Serve serve_;
    int fd_ = -1;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<size_t> accepted_{0};
};

// What an HTTP test server answers, changed by the test while it runs, and
// what it last saw.
class HttpBehaviour {
public:
    void set(int status, std::string body) {
        std::lock_guard lock(mutex_);
        status_ = status;
        body_ = std::move(body);
    }
    std::string host() const {
        std::lock_guard lock(mutex_);
        return host_;
    }
    std::string sni() const {
        std::lock_guard lock(mutex_);
        return sni_;
    }

    // Reads one request through `read`, returns the response to send.
    std::string respond(const std::function<ssize_t(char*, size_t)>& read, const char* sni) {
        std::string request;
        char buffer[4096];
        while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
            const ssize_t n = read(buffer, sizeof buffer);
            if (n <= 0) break;
            request.append(buffer, static_cast<size_t>(n));
        }
        std::lock_guard lock(mutex_);
        const size_t at = request.find("\r\nHost: ");
        if (at != std::string::npos) host_ = request.substr(at + 8, request.find("\r\n", at + 8) - at - 8);
        if (sni != nullptr) sni_ = sni;
        return "HTTP/1.1 " + std::to_string(status_) + " Whatever\r\nContent-Length: " + std::to_string(body_.size()) +
               "\r\nConnection: close\r\n\r\n" + body_;
    }

private:
    mutable std::mutex mutex_;
    int status_ = 200;
    std::string body_ = "ok";
    std::string host_, sni_;
};

TestServer::Serve plain_http(HttpBehaviour& behaviour) {
    return [&behaviour](int fd) {
        const std::string response = behaviour.respond([fd](char* b, size_t n) { return ::read(fd, b, n); }, nullptr);
        (void)!::write(fd, response.data(), response.size());
        ::close(fd);
    };
}

// A self-signed certificate for tls.health.test, made with the openssl CLI.
struct ServerTls {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{nullptr, SSL_CTX_free};

    explicit ServerTls(const TempDir& dir) {
        const std::string key = (dir.path() / "key.pem").string(), cert = (dir.path() / "cert.pem").string();
        CommandResult made = run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                          "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                                          "-subj", "/CN=tls.health.test", "-days", "1"});
        INFO(made.err);
        REQUIRE(made.exit_code == 0);
        ctx.reset(SSL_CTX_new(TLS_server_method()));
        REQUIRE(ctx);
        REQUIRE(SSL_CTX_use_certificate_file(ctx.get(), cert.c_str(), SSL_FILETYPE_PEM) == 1);
        REQUIRE(SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) == 1);
    }
};

TestServer::Serve https(SSL_CTX* ctx, HttpBehaviour& behaviour) {
    return [ctx, &behaviour](int fd) {
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        // A client that rejects the certificate fails the handshake: nothing to answer.
        if (SSL_accept(ssl) == 1) {
            const std::string response = behaviour.respond(
                [ssl](char* b, size_t n) { return static_cast<ssize_t>(SSL_read(ssl, b, static_cast<int>(n))); },
                SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
            SSL_write(ssl, response.data(), static_cast<int>(response.size()));
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ERR_clear_error();
        ::close(fd);
    };
}

// Polls `done` every 20 ms until it holds; false after `limit_s`.
bool eventually(const std::function<bool()>& done, double limit_s = patience_s) {
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(Seconds(limit_s));
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling pace, not synchronisation
    }
    return true;
}

// Asks dnsd over UDP, counting every query and every one that was not a
// NOERROR answer with addresses: a pool name always has some.
class Asker {
public:
    explicit Asker(uint16_t port) : port_(port) {}

    Addresses ask(const std::string& name) {
        ++queries_;
        const auto bytes = udp_exchange(port_, make_query(static_cast<uint16_t>(queries_), name, rrtype::A));
        const auto response = bytes ? parse_response(*bytes) : std::nullopt;
        if (!response || response->header.rcode() != rcode::noerror || response->answer_addresses.empty()) {
            const std::string why = response ? " rcode " + std::to_string(response->header.rcode()) : " no answer";
            failures_.push_back(name + why);
            return {};
        }
        return {response->answer_addresses.begin(), response->answer_addresses.end()};
    }

    // Polls `name` every 20 ms until its answer is `want`; the seconds that took,
    // or nullopt after `limit_s`.
    std::optional<double> wait_for(const std::string& name, const Addresses& want, double limit_s = patience_s) {
        const auto start = Clock::now();
        const auto deadline = start + std::chrono::duration_cast<Clock::duration>(Seconds(limit_s));
        while (Clock::now() < deadline) {
            if (ask(name) == want) return Seconds(Clock::now() - start).count();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling pace, not synchronisation
        }
        return std::nullopt;
    }

    // The answer's TTL, through dig.
    uint32_t ttl(const std::string& name) {
        ++queries_;
        DigResult result = dig(port_, {name, "A"});
        if (!result.answered || result.status != "NOERROR" || result.answer.empty()) {
            failures_.push_back(name + " (dig) " + result.output);
            return 0;
        }
        return result.answer.front().ttl;
    }

    // Polls the TTL of `name` until it is `want`; false after `limit_s`.
    bool wait_for_ttl(const std::string& name, uint32_t want, double limit_s = patience_s) {
        return eventually([&] { return ttl(name) == want; }, limit_s);
    }

    size_t queries() const { return queries_; }
    const std::vector<std::string>& failures() const { return failures_; }

private:
    uint16_t port_;
    size_t queries_ = 0;
    std::vector<std::string> failures_;
};

void report(const char* what, std::optional<double> seconds) {
    if (seconds) std::cerr << "health e2e: " << what << ": " << *seconds << " s\n";
}

std::string member(const std::string& address, const std::string& extra = "") {
    return R"({ "address": ")" + address + "\"" + extra + " }";
}

}  // namespace

TEST_CASE("tcp checks: members start up, leave after fall failures, return after rise successes, forced "
          "states, fail open, carry-over on reload, one probe per target, no query fails",
          "[health][tcp]") {
    auto accept_only = [](int fd) { ::close(fd); };
    TestServer a("127.0.0.2", 0, accept_only);
    TestServer b("127.0.0.3", a.port(), accept_only);
    const std::string check = check_json("tcp", a.port());
    // 127.0.0.4 and 127.0.0.5 have no listener on that port: their probes fail.
    auto health_zone = [&](uint32_t serial) {
        return zone_json(
            "health.test", serial,
            {{"web", pool_json(check, member("127.0.0.2") + "," + member("127.0.0.3") + "," + member("127.0.0.4") +
                                          "," + member("127.0.0.5", R"(, "state": "up")"))},
             {"drain", pool_json(check, member("127.0.0.2", R"(, "state": "down")") + "," + member("127.0.0.3"))},
             {"open", pool_json(check, member("127.0.0.4") + "," + member("127.0.0.5"))}});
    };
    TempDir zones;
    zones.write("health.test.json", health_zone(1));
    // The same target in another zone: still one probe per round.
    zones.write("other.test.json", zone_json("other.test", 1, {{"web", pool_json(check, member("127.0.0.2"))}}));

    const auto accepted_before = a.accepted();
    DnsdOptions options;
    options.zones_dir = zones.path();
    Dnsd server(options);
    Asker asker(server.port());

    // Members start up: those with no listener answer until they have failed.
    CHECK(asker.ask("web.health.test") == Addresses{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"});
    CHECK(asker.ask("open.health.test") == Addresses{"127.0.0.4", "127.0.0.5"});
    CHECK(asker.ttl("open.health.test") == 20);

    // The first round runs within a second, then 127.0.0.4 fails `fall` times;
    // 127.0.0.5 is forced up and stays.
    auto first = asker.wait_for("web.health.test", {"127.0.0.2", "127.0.0.3", "127.0.0.5"});
    CHECK(first);
    report("first round to a dead member leaving", first);
    // Both of open's members go down: fail open, with the degraded TTL.
    CHECK(asker.wait_for_ttl("open.health.test", 5));
    CHECK(asker.ask("open.health.test") == Addresses{"127.0.0.4", "127.0.0.5"});
    // drain's 127.0.0.2 is healthy but forced down.
    CHECK(asker.ask("drain.health.test") == Addresses{"127.0.0.3"});
    CHECK(asker.ttl("drain.health.test") == 20);

    // A listener closes: its member leaves after `fall` failures.
    b.close();
    auto left = asker.wait_for("web.health.test", {"127.0.0.2", "127.0.0.5"});
    CHECK(left);
    report("listener closed to member out of the answers", left);
    CHECK(server.log().find("health: 127.0.0.3:" + std::to_string(a.port()) + " tcp: down after 2 failures: ") !=
          std::string::npos);
    // drain: 127.0.0.3 down and 127.0.0.2 forced down: fail open without the drained one.
    CHECK(asker.ask("drain.health.test") == Addresses{"127.0.0.3"});
    CHECK(asker.ttl("drain.health.test") == 5);

    // A reload keeps the state of targets that stay: 127.0.0.3 and 127.0.0.4
    // stay down although a new target would start up.
    zones.write("health.test.json", health_zone(2));
    REQUIRE(eventually([&] {
        DigResult soa = dig(server.port(), {"health.test", "SOA"});
        return soa.answered && !soa.answer.empty() && soa.answer.front().rdata.find(" 2 ") != std::string::npos;
    }));
    CHECK(asker.ask("web.health.test") == Addresses{"127.0.0.2", "127.0.0.5"});

    // The listener is back: the member returns after `rise` successes, not one.
    b.open();
    auto back = asker.wait_for("web.health.test", {"127.0.0.2", "127.0.0.3", "127.0.0.5"});
    CHECK(back);
    report("listener reopened to member back in the answers", back);
    CHECK(server.log().find("health: 127.0.0.3:" + std::to_string(a.port()) + " tcp: up after 2 successes") !=
          std::string::npos);

    // 127.0.0.2 on that port is listed by three pools in two zones: it is one
    // of four targets (127.0.0.2 to 127.0.0.5), probed round after round.
    CHECK(server.log().find("health: 4 targets probed (4 new, 0 gone)") != std::string::npos);
    CHECK(eventually([&] { return a.accepted() - accepted_before >= 2; }));

    INFO(Catch::Detail::stringify(asker.failures()));
    CHECK(asker.failures().empty());
    CHECK(asker.queries() > 50);
}

TEST_CASE("http and https checks: status, body, Host and SNI, certificate verification", "[health][http]") {
    HttpBehaviour status_page, body_page, tls_page;
    body_page.set(200, "state: ALIVE");
    TestServer status_server("127.0.0.2", 0, plain_http(status_page));
    TestServer body_server("127.0.0.3", status_server.port(), plain_http(body_page));
    TempDir dir;
    ServerTls tls(dir);
    TestServer tls_server("127.0.0.5", 0, https(tls.ctx.get(), tls_page));

    const uint16_t http_port = status_server.port();
    const std::string forced = member("127.0.0.4", R"(, "state": "up")");
    TempDir zones;
    zones.write("web.test.json",
                zone_json("web.test", 1,
                          {{"status", pool_json(check_json("http", http_port,
                                                           R"(, "path": "/healthz", "host": "status.web.test")"),
                                                member("127.0.0.2") + "," + forced)},
                           {"body", pool_json(check_json("http", http_port, R"(, "expect_body": "ALIVE")"),
                                              member("127.0.0.3") + "," + forced)},
                           {"tls", pool_json(check_json("https", tls_server.port(), R"(, "host": "tls.health.test")"),
                                             member("127.0.0.5") + "," + forced)},
                           {"verified", pool_json(check_json("https", tls_server.port(),
                                                             R"(, "host": "tls.health.test", "verify_tls": true)"),
                                                  member("127.0.0.5") + "," + forced)}}));
    DnsdOptions options;
    options.zones_dir = zones.path();
    Dnsd server(options);
    Asker asker(server.port());
    const Addresses both_status{"127.0.0.2", "127.0.0.4"}, only_forced{"127.0.0.4"};

    // The self-signed certificate fails verification; without it, TLS is fine.
    auto unverified = asker.wait_for("verified.web.test", only_forced);
    CHECK(unverified);
    CHECK(server.log().find("certificate verify failed") != std::string::npos);
    CHECK(asker.ask("tls.web.test") == Addresses{"127.0.0.4", "127.0.0.5"});
    CHECK(tls_page.sni() == "tls.health.test");
    CHECK(tls_page.host() == "tls.health.test:" + std::to_string(tls_server.port()));
    CHECK(status_page.host() == "status.web.test:" + std::to_string(http_port));
    CHECK(asker.ask("status.web.test") == both_status);

    status_page.set(503, "busy");
    auto left = asker.wait_for("status.web.test", only_forced);
    CHECK(left);
    report("HTTP 503 to member out of the answers", left);
    CHECK(server.log().find("http /healthz: down after 2 failures: status 503") != std::string::npos);
    status_page.set(200, "fine");
    CHECK(asker.wait_for("status.web.test", both_status));

    // Status 200 is not enough when the body must say ALIVE.
    CHECK(asker.ask("body.web.test") == Addresses{"127.0.0.3", "127.0.0.4"});
    body_page.set(200, "state: MAINTENANCE");
    CHECK(asker.wait_for("body.web.test", only_forced));
    CHECK(server.log().find("body does not contain \"ALIVE\"") != std::string::npos);
    body_page.set(200, std::string(1000, 'x') + "ALIVE");
    CHECK(asker.wait_for("body.web.test", {"127.0.0.3", "127.0.0.4"}));

    INFO(Catch::Detail::stringify(asker.failures()));
    CHECK(asker.failures().empty());
}

TEST_CASE("dns checks: a second dnsd answers NOERROR, REFUSED is a failure, a stopped server leaves",
          "[health][dns]") {
    const uint16_t backend_port = free_port("127.0.0.3");
    TempDir backend_zones;
    backend_zones.write("backend.test.json", R"({ "zone": "backend.test",
  "soa": { "mname": "ns1", "rname": "hostmaster.backend.test.", "serial": 1 },
  "records": { "@": { "NS": ["ns1"] }, "ns1": { "A": ["192.0.2.53"] }, "ok": { "A": ["192.0.2.1"] } } })");
    DnsdOptions backend_options;
    backend_options.zones_dir = backend_zones.path();
    backend_options.listen = {"127.0.0.3:" + std::to_string(backend_port)};
    auto backend = std::make_unique<Dnsd>(backend_options);

    const std::string forced = member("127.0.0.4", R"(, "state": "up")");
    TempDir zones;
    zones.write("dns.test.json",
                zone_json("dns.test", 1,
                          {{"good", pool_json(check_json("dns", backend_port, R"(, "query": "ok.backend.test.")"),
                                              member("127.0.0.3") + "," + forced)},
                           {"refused", pool_json(check_json("dns", backend_port,
                                                            R"(, "query": "elsewhere.example.", "query_type": "AAAA")"),
                                                 member("127.0.0.3") + "," + forced)}}));
    DnsdOptions options;
    options.zones_dir = zones.path();
    Dnsd server(options);
    Asker asker(server.port());
    const Addresses both{"127.0.0.3", "127.0.0.4"}, only_forced{"127.0.0.4"};

    CHECK(asker.wait_for("refused.dns.test", only_forced));
    CHECK(server.log().find("elsewhere.example.: down after 2 failures: REFUSED") != std::string::npos);
    // By now "good" has been probed as often, and stays.
    CHECK(asker.ask("good.dns.test") == both);

    backend->stop();
    auto left = asker.wait_for("good.dns.test", only_forced);
    CHECK(left);
    report("DNS server stopped to member out of the answers", left);

    backend = std::make_unique<Dnsd>(backend_options);
    CHECK(asker.wait_for("good.dns.test", both));

    INFO(Catch::Detail::stringify(asker.failures()));
    CHECK(asker.failures().empty());
}

}  // namespace dnsd::e2e
