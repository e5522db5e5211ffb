// UDP and TCP transport of the real binary: RFC 7766 framing and pipelining,
// idle timeout, the connection cap, clients that stall, both address families,
// several workers.
#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

Bytes framed(const Bytes& message) {
    Bytes out{static_cast<uint8_t>(message.size() >> 8), static_cast<uint8_t>(message.size())};
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

// The response to `query` on `client`: parsed, with the query's ID.
Response expect_answer(TcpClient& client, uint16_t id) {
    std::optional<Bytes> bytes = client.receive_message(5s);
    REQUIRE(bytes);
    std::optional<Response> response = parse_response(*bytes);
    REQUIRE(response);
    CHECK(response->header.qr());
    CHECK(response->header.id == id);
    return *response;
}

// True when a fresh TCP connection gets its query answered.
bool tcp_answers(uint16_t port, uint16_t id, std::string_view address = "127.0.0.1") {
    TcpClient client(address, port);
    client.send_message(make_query(id, "static.test", rrtype::A));
    std::optional<Bytes> bytes = client.receive_message(3s);
    if (!bytes) return false;
    std::optional<Response> response = parse_response(*bytes);
    return response && response->header.id == id && response->header.rcode() == 0;
}

bool udp_answers(uint16_t port, uint16_t id, std::string_view address = "127.0.0.1") {
    std::optional<Bytes> bytes = udp_exchange(port, make_query(id, "static.test", rrtype::A), address, 3s);
    if (!bytes) return false;
    std::optional<Response> response = parse_response(*bytes);
    return response && response->header.id == id && response->header.rcode() == 0;
}

std::string config_with_tcp(std::string_view tcp_object) {
    return std::string(R"({"tcp": )") + std::string(tcp_object) + "}";
}

// A TCP client that never reads, with small socket buffers so that the
// server's answers pile up on the server's side quickly.
class NonReadingClient {
public:
    explicit NonReadingClient(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        int small = 4096;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~NonReadingClient() { ::close(fd_); }
    NonReadingClient(const NonReadingClient&) = delete;
    NonReadingClient& operator=(const NonReadingClient&) = delete;

    // Sends `bytes` without blocking until the server stops taking them: true
    // when sending made no progress for `stall`; false when everything went.
    bool send_until_stalled(const Bytes& bytes, std::chrono::milliseconds stall, Clock::time_point deadline) {
        size_t sent = 0;
        while (sent < bytes.size() && Clock::now() < deadline) {
            ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<size_t>(n);
                continue;
            }
            REQUIRE((n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)));
            pollfd p{fd_, POLLOUT, 0};
            if (::poll(&p, 1, static_cast<int>(stall.count())) == 0) return true;
        }
        return false;
    }

private:
    int fd_ = -1;
};

// How many sockets in /proc/net/{udp,tcp}{,6} are bound to `port`; TCP counts
// listening sockets only.
size_t sockets_bound_to(const std::string& table, uint16_t port) {
    std::ifstream in("/proc/net/" + table);
    std::string line;
    std::getline(in, line);  // header
    size_t count = 0;
    char wanted[8];
    std::snprintf(wanted, sizeof wanted, ":%04X", port);
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        fields >> slot >> local >> remote >> state;
        if (!local.ends_with(wanted)) continue;
        if (table.starts_with("tcp") && state != "0A") continue;
        ++count;
    }
    return count;
}

TEST_CASE("TCP: pipelined queries in one write are all answered in order", "[e2e][tcp]") {
    Dnsd dnsd;
    TcpClient client("127.0.0.1", dnsd.port("127.0.0.1", "tcp"));
    const std::vector<std::pair<std::string, uint16_t>> questions{
        {"static.test", rrtype::A},  {"static.test", rrtype::AAAA}, {"static.test", rrtype::MX},
        {"static.test", rrtype::NS}, {"static.test", rrtype::SOA},  {"static.test", rrtype::TXT},
        {"static.test", rrtype::A},  {"static.test", rrtype::AAAA}};
    Bytes batch;
    for (size_t i = 0; i < questions.size(); ++i) {
        Bytes one = framed(make_query(static_cast<uint16_t>(100 + i), questions[i].first, questions[i].second));
        batch.insert(batch.end(), one.begin(), one.end());
    }
    client.send_raw(batch);
    for (size_t i = 0; i < questions.size(); ++i) {
        Response response = expect_answer(client, static_cast<uint16_t>(100 + i));
        CHECK(response.header.rcode() == 0);
        REQUIRE_FALSE(response.answer_types.empty());
        CHECK(response.answer_types.front() == questions[i].second);
    }
}

TEST_CASE("TCP: a query split across writes is answered once complete", "[e2e][tcp]") {
    Dnsd dnsd;
    TcpClient client("127.0.0.1", dnsd.port("127.0.0.1", "tcp"));
    const Bytes first = framed(make_query(7, "static.test", rrtype::A));
    const Bytes second = framed(make_query(8, "static.test", rrtype::AAAA));

    SECTION("the length prefix itself split") {
        client.send_raw({first.begin(), first.begin() + 1});
        CHECK_FALSE(client.receive_message(300ms));
        client.send_raw({first.begin() + 1, first.begin() + 9});
        CHECK_FALSE(client.receive_message(300ms));
        client.send_raw({first.begin() + 9, first.end()});
        CHECK(expect_answer(client, 7).answer_types == std::vector<uint16_t>{rrtype::A});
    }
    SECTION("a whole query and half of the next in one write") {
        Bytes batch = first;
        batch.insert(batch.end(), second.begin(), second.begin() + 5);
        client.send_raw(batch);
        CHECK(expect_answer(client, 7).answer_types == std::vector<uint16_t>{rrtype::A});
        CHECK_FALSE(client.receive_message(300ms));
        client.send_raw({second.begin() + 5, second.end()});
        CHECK(expect_answer(client, 8).answer_types == std::vector<uint16_t>{rrtype::AAAA});
    }
}

TEST_CASE("TCP: a zero length prefix closes the connection", "[e2e][tcp]") {
    Dnsd dnsd;
    TcpClient client("127.0.0.1", dnsd.port("127.0.0.1", "tcp"));
    client.send_message(make_query(1, "static.test", rrtype::A));
    expect_answer(client, 1);
    client.send_raw({0, 0});
    CHECK(client.closed_by_peer(3s));
}

TEST_CASE("TCP: the idle timeout closes a silent connection and activity defers it", "[e2e][tcp]") {
    DnsdOptions options;
    options.config_json = config_with_tcp(R"({"idle_timeout": 1})");
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port("127.0.0.1", "tcp");

    SECTION("silent from the start") {
        TcpClient client("127.0.0.1", port);
        CHECK(client.closed_by_peer(10s));
    }
    SECTION("a query every 400 ms keeps it open past the timeout") {
        TcpClient client("127.0.0.1", port);
        const auto start = Clock::now();
        for (uint16_t id = 1; id <= 5; ++id) {
            CHECK_FALSE(client.receive_message(400ms));  // nothing unasked for; lets time pass
            client.send_message(make_query(id, "static.test", rrtype::A));
            expect_answer(client, id);
        }
        CHECK(Clock::now() - start >= 2s);  // the test's own waits: longer than the idle timeout
        CHECK(client.closed_by_peer(10s));
    }
}

TEST_CASE("TCP: the connection cap holds across workers, and the longest idle makes room", "[e2e][tcp]") {
    DnsdOptions options;
    options.config_json = config_with_tcp(R"({"max_connections": 2})");
    options.extra_args = {"--threads", "2"};
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port("127.0.0.1", "tcp");

    // Connections land on either worker; a per-worker count would keep more open.
    std::vector<std::unique_ptr<TcpClient>> clients;
    for (uint16_t id = 1; id <= 8; ++id) {
        clients.push_back(std::make_unique<TcpClient>("127.0.0.1", port));
        clients.back()->send_message(make_query(id, "static.test", rrtype::A));
        clients.back()->receive_message(3s);  // answered, or closed at once
    }
    size_t open = 0;
    for (auto& client : clients)
        if (!client->closed_by_peer(500ms)) ++open;
    CHECK(open >= 1);
    CHECK(open <= 2);

    clients.clear();
    bool served = false;
    for (auto deadline = Clock::now() + 5s; !served && Clock::now() < deadline;)
        served = tcp_answers(port, 9);
    CHECK(served);
}

TEST_CASE("TCP: clients that stall or stop reading do not hold up others", "[e2e][tcp]") {
    DnsdOptions options;
    options.extra_args = {"--threads", "1"};  // everyone on the same worker
    Dnsd dnsd(options);
    const uint16_t tcp_port = dnsd.port("127.0.0.1", "tcp");
    const uint16_t udp_port = dnsd.port("127.0.0.1", "udp");

    // Announces 64 bytes, sends 10, never sends the rest.
    TcpClient half("127.0.0.1", tcp_port);
    Bytes partial = framed(make_query(1, "static.test", rrtype::A));
    partial[0] = 0;
    partial[1] = 64;
    partial.resize(12);
    half.send_raw(partial);

    // Pipelines far more queries than it will ever read answers for. The
    // server must stop reading from it rather than queue answers without bound.
    NonReadingClient greedy(tcp_port);
    const Bytes one = framed(make_query(2, "static.test", rrtype::TXT));
    Bytes flood;
    for (int i = 0; i < 400000; ++i) flood.insert(flood.end(), one.begin(), one.end());
    CHECK(greedy.send_until_stalled(flood, 1000ms, Clock::now() + 60s));

    for (uint16_t id = 10; id < 15; ++id) {
        CHECK(tcp_answers(tcp_port, id));
        CHECK(udp_answers(udp_port, id));
    }
}

TEST_CASE("TCP: a repeated signal while answers drain does not cut the shutdown short", "[e2e][tcp]") {
    // Shells and timeout(1) signal both the process and its group. A client
    // that reads nothing keeps the stop draining (up to its grace period),
    // so the second signal surely lands while dnsd is stopping.
    DnsdOptions options;
    options.extra_args = {"--threads", "1"};
    Dnsd dnsd(options);
    NonReadingClient greedy(dnsd.port("127.0.0.1", "tcp"));
    const Bytes one = framed(make_query(2, "static.test", rrtype::TXT));
    Bytes flood;
    for (int i = 0; i < 400000; ++i) flood.insert(flood.end(), one.begin(), one.end());
    REQUIRE(greedy.send_until_stalled(flood, 1000ms, Clock::now() + 60s));

    REQUIRE(::kill(dnsd.pid(), SIGTERM) == 0);
    const auto deadline = Clock::now() + 5s;
    while (dnsd.log().find("stopping on SIGTERM") == std::string::npos && Clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    REQUIRE(dnsd.log().find("stopping on SIGTERM") != std::string::npos);
    REQUIRE(::kill(dnsd.pid(), SIGTERM) == 0);
    // Without its handler the second SIGTERM would end dnsd with status 143.
    CHECK(dnsd.stop() == 0);
    INFO(dnsd.log());
    CHECK(dnsd.log().find("stopped") != std::string::npos);
}

TEST_CASE("UDP and TCP answer on IPv4 and IPv6 loopback", "[e2e][udp][tcp]") {
    Dnsd dnsd;
    for (std::string address : {"127.0.0.1", "::1"}) {
        INFO(address);
        const uint16_t port = dnsd.port(address, "udp");
        CHECK(dnsd.port(address, "tcp") == port);
        CHECK(udp_answers(port, 21, address));
        CHECK(tcp_answers(port, 22, address));
        for (const char* transport : {"+notcp", "+tcp"}) {
            DigResult result = dig(port, {transport, "static.test", "A"}, address);
            INFO(result.output);
            CHECK(result.status == "NOERROR");
            CHECK(result.has_flag("aa"));
            REQUIRE(result.records("answer", "A").size() == 1);
            CHECK(result.records("answer", "A").front().rdata == "192.0.2.1");
        }
    }
}

TEST_CASE("dnsd --threads N starts N workers with their own sockets and all serve", "[e2e][udp][tcp]") {
    for (unsigned threads : {1u, 2u}) {
        DnsdOptions options;
        options.listen = {"127.0.0.1:0"};
        options.extra_args = {"--threads", std::to_string(threads)};
        Dnsd dnsd(options);
        const uint16_t port = dnsd.port("127.0.0.1", "udp");
        INFO("threads " << threads << "\n" << dnsd.log());
        CHECK(dnsd.log().find(std::to_string(threads) + (threads == 1 ? " worker" : " workers")) !=
              std::string::npos);
        CHECK(sockets_bound_to("udp", port) == threads);
        CHECK(sockets_bound_to("tcp", port) == threads);
        // Many source ports and connections spread over the workers' sockets.
        for (uint16_t id = 1; id <= 16; ++id) {
            CHECK(udp_answers(port, id));
            CHECK(tcp_answers(port, id));
        }
    }
}

// Listening on 0.0.0.0 would reach other hosts' networks outside a namespace
// of the test's own: the case runs only where loopback is the only interface.
TEST_CASE("UDP on a wildcard address answers from the address each query was sent to", "[e2e][udp]") {
    if (!only_loopback()) {
        WARN("skipped: interfaces other than lo are up (tools/test runs this in a namespace as root)");
        return;
    }
    DnsdOptions options;
    options.listen = {"0.0.0.0:0"};
    options.extra_args = {"--threads", "1"};
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port("0.0.0.0", "udp");
    // A client connected to 127.0.0.2 takes only datagrams from 127.0.0.2;
    // the route back to the client would pick 127.0.0.1 as the source.
    for (std::string address : {"127.0.0.1", "127.0.0.2", "127.0.0.53"}) {
        INFO(address);
        CHECK(udp_answers(port, 31, address));
    }
}

TEST_CASE("UDP: 20000 queries with 1024 in flight are all answered and each answer matches its query", "[e2e][udp]") {
    // Batches of many datagrams per recvmmsg and sendmmsg: single queries,
    // as elsewhere, leave one datagram per batch.
    DnsdOptions options;
    options.listen = {"127.0.0.1:0"};
    options.extra_args = {"--threads", "1"};
    Dnsd dnsd(options);
    const std::string server = "127.0.0.1:" + std::to_string(dnsd.port("127.0.0.1", "udp"));
    const CommandResult load = run_command(
        {DNSD_BENCH_LOAD, "--server", server, "--count", "20000", "--seconds", "30", "--sockets", "4", "--window", "256",
         "--query", "static.test A NOERROR", "--query", "missing.static.test A NXDOMAIN",
         "--query", "rr.pools.test A 8.8.8.0/24 NOERROR", "--query", "rr.pools.test AAAA 81.2.69.0/24 NOERROR"},
        60s);
    INFO(load.out << load.err << dnsd.log());
    CHECK(load.exit_code == 0);
    CHECK(load.out.find("answers=20000 lost=0") != std::string::npos);
    CHECK(load.out.find("wrong_rcode=0") != std::string::npos);
}

}  // namespace
}  // namespace dnsd::e2e
