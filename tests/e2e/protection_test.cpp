// SPEC §10 against the real binary: RRL, DNS cookies (with dig and kdig),
// extended errors, and the TCP limits per client, at the global cap and for
// clients that trickle. Clients speak from many addresses of 127.0.0.0/8,
// each socket bound to its own, so that each is a network of its own.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dnsd/core/address.hpp"
#include "dnsd/guard/cookie.hpp"
#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace dnsd::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint16_t option_cookie = 10, option_ede = 15;

// The data of the first option `code` in `opt`, or nullopt.
std::optional<Bytes> option_data(const Opt& opt, uint16_t code) {
    for (size_t at = 0; at + 4 <= opt.options.size();) {
        const uint16_t found = static_cast<uint16_t>(opt.options[at] << 8 | opt.options[at + 1]);
        const size_t length = size_t{opt.options[at + 2]} << 8 | opt.options[at + 3];
        if (at + 4 + length > opt.options.size()) break;
        if (found == code) return Bytes(opt.options.begin() + static_cast<ptrdiff_t>(at + 4),
                                        opt.options.begin() + static_cast<ptrdiff_t>(at + 4 + length));
        at += 4 + length;
    }
    return std::nullopt;
}

std::string hex(const Bytes& bytes) {
    std::ostringstream out;
    for (uint8_t b : bytes) out << std::hex << std::setw(2) << std::setfill('0') << unsigned{b};
    return out.str();
}

// The value of the sample `name` (with its labels, as printed) in /metrics; -1 if absent.
double metric(uint16_t http_port, const std::string& sample) {
    const HttpResponse response = http_request(http_port, "GET", "/metrics");
    const std::string& body = response.body;
    for (size_t at = body.find(sample + " "); at != std::string::npos; at = body.find(sample + " ", at + 1))
        if (at == 0 || body[at - 1] == '\n') return std::stod(body.substr(at + sample.size() + 1));
    return -1;
}

// Polls the server's log for `text`, up to `timeout`.
bool log_shows(const Dnsd& dnsd, const std::string& text, std::chrono::milliseconds timeout = 10s) {
    for (auto deadline = Clock::now() + timeout; Clock::now() < deadline;) {
        if (dnsd.log().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(100ms);  // polling pace, not synchronisation
    }
    return dnsd.log().find(text) != std::string::npos;
}

std::string rrl_config(unsigned rate, unsigned slip) {
    return R"({"rrl": {"responses_per_second": )" + std::to_string(rate) + R"(, "slip": )" + std::to_string(slip) +
           "}}";
}

// What came back for a flood: full answers, empty TC answers, nothing.
struct Flood {
    size_t answered = 0, slipped = 0, dropped = 0;
    long seconds = 0;  // distinct wall-clock seconds the flood was sent in: the windows RRL counted
};

// Sends `count` queries for static.test A from each of `sockets`, then
// collects what comes back.
Flood flood(std::vector<std::unique_ptr<UdpClient>>& sockets, size_t count, const Bytes& options = {}) {
    Flood result;
    const std::time_t first = std::time(nullptr);
    uint16_t id = 1;
    for (size_t i = 0; i < count; ++i)
        for (auto& socket : sockets) {
            Bytes query = make_query(id++, "static.test", rrtype::A);
            add_opt(query, 1232, 0, options);
            socket->send(query);
        }
    result.seconds = std::time(nullptr) - first + 1;
    for (auto& socket : sockets)
        for (size_t i = 0; i < count; ++i) {
            const std::optional<Bytes> bytes = socket->receive(1500ms);
            if (!bytes) break;
            const std::optional<Response> response = parse_response(*bytes);
            REQUIRE(response);
            if (response->header.tc() && response->answer_types.empty())
                ++result.slipped;
            else if (!response->answer_addresses.empty())
                ++result.answered;
        }
    result.dropped = count * sockets.size() - result.answered - result.slipped;
    return result;
}

std::vector<std::unique_ptr<UdpClient>> sockets_from(uint16_t port, std::vector<std::string> sources) {
    std::vector<std::unique_ptr<UdpClient>> sockets;
    for (const std::string& source : sources) sockets.push_back(std::make_unique<UdpClient>("127.0.0.1", port, source));
    return sockets;
}

bool udp_served(uint16_t port, const std::string& source, uint16_t id, const Bytes& options = {}) {
    UdpClient client("127.0.0.1", port, source);
    Bytes query = make_query(id, "static.test", rrtype::A);
    add_opt(query, 1232, 0, options);
    client.send(query);
    const std::optional<Bytes> bytes = client.receive(3s);
    if (!bytes) return false;
    const std::optional<Response> response = parse_response(*bytes);
    return response && response->header.id == id && !response->header.tc() && !response->answer_addresses.empty();
}

}  // namespace

TEST_CASE("RRL: a flood from one network is dropped and slipped in ratio while another network is served in full",
          "[e2e][rrl]") {
    DnsdOptions options;
    options.config_json = rrl_config(5, 2);
    options.extra_args = {"--threads", "1"};
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port();

    auto sockets = sockets_from(port, {"127.0.1.1"});
    const Flood result = flood(sockets, 200);
    INFO("answered " << result.answered << ", slipped " << result.slipped << ", dropped " << result.dropped
                     << " in " << result.seconds << " s");
    CHECK(result.answered >= 5);
    CHECK(result.answered <= 5u * static_cast<size_t>(result.seconds));
    // slip 2: of each second's responses over the limit, every second one is slipped.
    CHECK(result.dropped >= result.slipped);
    CHECK(result.dropped - result.slipped <= static_cast<size_t>(result.seconds));
    CHECK(result.slipped > 50);
    // Another network, in the middle of it all, gets every answer.
    auto more = sockets_from(port, {"127.0.1.2"});
    for (uint16_t id = 1; id <= 4; ++id) {
        CHECK(udp_served(port, "127.0.2.1", id));
        flood(more, 20);  // the first network keeps going
    }
    // The counts in /metrics are what the client saw.
    CHECK(metric(dnsd.http_port(), R"(dnsd_rrl_responses_total{action="slipped"})") >=
          static_cast<double>(result.slipped));
    CHECK(metric(dnsd.http_port(), R"(dnsd_rrl_responses_total{action="dropped"})") >=
          static_cast<double>(result.dropped));
    CHECK(log_shows(dnsd, "rrl: 127.0.1.0/24 started being limited"));
    CHECK(log_shows(dnsd, "rrl: 127.0.1.0/24 stopped being limited"));
    CHECK(dnsd.log().find("127.0.2.0/24") == std::string::npos);
    // Once the flood is over, no network is limited.
    double limited = -1;
    for (auto deadline = Clock::now() + 10s; limited != 0 && Clock::now() < deadline;) {
        limited = metric(dnsd.http_port(), "dnsd_rrl_limited_networks");
        if (limited != 0) std::this_thread::sleep_for(100ms);  // polling pace, not synchronisation
    }
    CHECK(limited == 0);
}

TEST_CASE("RRL: the same flood with a valid server cookie is served in full", "[e2e][rrl][cookie]") {
    DnsdOptions options;
    options.config_json = rrl_config(5, 2);
    options.extra_args = {"--threads", "1"};
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port();

    // Learn the server cookie: a query with a client cookie only.
    const Bytes client_cookie{1, 2, 3, 4, 5, 6, 7, 8};
    UdpClient client("127.0.0.1", port, "127.0.3.1");
    Bytes query = make_query(1, "static.test", rrtype::A);
    add_opt(query, 1232, 0, edns_option(option_cookie, client_cookie));
    client.send(query);
    const std::optional<Bytes> bytes = client.receive(3s);
    REQUIRE(bytes);
    const std::optional<Response> first = parse_response(*bytes);
    REQUIRE((first && first->opt));
    const std::optional<Bytes> cookie = option_data(*first->opt, option_cookie);
    REQUIRE(cookie);
    REQUIRE(cookie->size() == 24);
    CHECK(Bytes(cookie->begin(), cookie->begin() + 8) == client_cookie);

    auto sockets = sockets_from(port, {"127.0.3.1"});
    const Flood with_cookie = flood(sockets, 200, edns_option(option_cookie, *cookie));
    CHECK(with_cookie.answered == 200);
    // The same cookie from another address of the network is not valid there.
    auto other = sockets_from(port, {"127.0.3.2"});
    const Flood stolen = flood(other, 200, edns_option(option_cookie, *cookie));
    CHECK(stolen.answered < 200);
}

TEST_CASE("RRL: TCP is never limited", "[e2e][rrl]") {
    DnsdOptions options;
    options.config_json = rrl_config(2, 2);
    Dnsd dnsd(options);
    TcpClient client("127.0.0.1", dnsd.port("127.0.0.1", "tcp"), "127.0.4.1");
    Bytes batch;
    for (uint16_t id = 1; id <= 100; ++id) {
        const Bytes query = make_query(id, "static.test", rrtype::A);
        batch.push_back(static_cast<uint8_t>(query.size() >> 8));
        batch.push_back(static_cast<uint8_t>(query.size()));
        batch.insert(batch.end(), query.begin(), query.end());
    }
    client.send_raw(batch);
    size_t answered = 0;
    for (uint16_t id = 1; id <= 100; ++id) {
        const std::optional<Bytes> bytes = client.receive_message(5s);
        REQUIRE(bytes);
        const std::optional<Response> response = parse_response(*bytes);
        if (response && !response->header.tc() && !response->answer_addresses.empty()) ++answered;
    }
    CHECK(answered == 100);
}

TEST_CASE("RRL: the limit holds for the whole server with 2 workers", "[e2e][rrl]") {
    DnsdOptions options;
    options.config_json = rrl_config(5, 0);
    options.extra_args = {"--threads", "2"};
    Dnsd dnsd(options);
    // Eight sockets of one /24: their source ports spread them over both workers.
    auto sockets = sockets_from(dnsd.port(), {"127.0.5.1", "127.0.5.2", "127.0.5.3", "127.0.5.4", "127.0.5.5",
                                              "127.0.5.6", "127.0.5.7", "127.0.5.8"});
    const Flood result = flood(sockets, 50);
    INFO("answered " << result.answered << " in " << result.seconds << " s");
    CHECK(result.answered >= 5);
    CHECK(result.answered <= 5u * static_cast<size_t>(result.seconds));
    CHECK(result.slipped == 0);
}

TEST_CASE("cookies: dig and kdig get a server cookie, and it comes back valid", "[e2e][cookie]") {
    Dnsd dnsd;
    const uint16_t port = dnsd.port();
    // dig prints the option in lower case, kdig in upper case.
    const std::regex cookie_line(R"(COOKIE: ([0-9a-f]{16})([0-9a-f]{32}))", std::regex::icase);
    auto lower = [](std::string text) {
        for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return text;
    };
    std::smatch match;

    const DigResult dug = dig(port, {"+cookie", "static.test", "A"});
    REQUIRE(dug.status == "NOERROR");
    REQUIRE(std::regex_search(dug.output, match, cookie_line));
    CHECK(dug.output.find("(good)") != std::string::npos);  // dig checks its client cookie came back
    const std::string full = match[1].str() + match[2].str();
    CHECK(match[2].str().substr(0, 8) == "01000000");  // RFC 9018 version 1, reserved zero

    // With no question the server says whether the cookie is valid.
    CHECK(dig(port, {"+cookie=" + full, "+header-only"}).status == "NOERROR");
    std::string wrong = full;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    // +nobadcookie: dig would otherwise retry with the fresh cookie.
    CHECK(dig(port, {"+nobadcookie", "+cookie=" + wrong, "+header-only"}).status == "BADCOOKIE");
    // With a question a wrong cookie still gets the answer, and a fresh cookie.
    const DigResult answered = dig(port, {"+cookie=" + wrong, "static.test", "A"});
    CHECK(answered.status == "NOERROR");
    CHECK_FALSE(answered.answer.empty());
    REQUIRE(std::regex_search(answered.output, match, cookie_line));
    CHECK(match[1].str() + match[2].str() != wrong);

    const DigResult k = kdig(port, {"+cookie", "static.test", "A"});
    REQUIRE(k.status == "NOERROR");
    REQUIRE(std::regex_search(k.output, match, cookie_line));
    const std::string from_kdig = lower(match[1].str() + match[2].str());
    CHECK(dig(port, {"+cookie=" + from_kdig, "+header-only"}).status == "NOERROR");
    // kdig sends the whole cookie back and checks the reply's.
    const DigResult again = kdig(port, {"+cookie=" + from_kdig, "static.test", "A"});
    CHECK(again.status == "NOERROR");
    CHECK(again.output.find("BADCOOKIE") == std::string::npos);
}

TEST_CASE("cookies: a fleet's shared secret, and the previous one during a rotation", "[e2e][cookie]") {
    const std::string old_secret = "dd3bdf9344b678b185a6f5cb60fca715";
    const std::string new_secret = "445536bcd2513298075a5d379663c962";
    DnsdOptions options;
    options.config_json =
        R"({"cookie_secret": ")" + new_secret + R"(", "cookie_secret_previous": ")" + old_secret + R"("})";
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port();
    const std::array<uint8_t, 8> client{9, 8, 7, 6, 5, 4, 3, 2};
    auto made_with = [&](const std::string& secret) {
        const guard::ServerCookie server = guard::server_cookie(
            client, *core::Address::parse("127.0.0.1"), static_cast<uint32_t>(std::time(nullptr)),
            *guard::parse_secret(secret));
        return hex(Bytes(client.begin(), client.end())) + hex(Bytes(server.begin(), server.end()));
    };
    CHECK(dig(port, {"+cookie=" + made_with(new_secret), "+header-only"}).status == "NOERROR");
    CHECK(dig(port, {"+cookie=" + made_with(old_secret), "+header-only"}).status == "NOERROR");
    CHECK(dig(port, {"+nobadcookie", "+cookie=" + made_with("00000000000000000000000000000000"), "+header-only"})
              .status == "BADCOOKIE");
    // The cookie given back is made with the new secret.
    const DigResult dug = dig(port, {"+cookie=" + made_with(old_secret), "static.test", "A"});
    std::smatch match;
    REQUIRE(std::regex_search(dug.output, match, std::regex(R"(COOKIE: ([0-9a-f]{48}))")));
    CHECK(match[1].str().substr(16, 8) == "01000000");
    CHECK(dig(port, {"+cookie=" + match[1].str(), "+header-only"}).status == "NOERROR");
}

TEST_CASE("EDE: REFUSED outside the zones says Not Authoritative, AXFR says Prohibited", "[e2e][ede]") {
    Dnsd dnsd;
    const uint16_t port = dnsd.port();
    Bytes outside = make_query(1, "www.example.com", rrtype::A);
    add_opt(outside, 1232);
    Response refused = udp_response(port, outside);
    CHECK(refused.header.rcode() == rcode::refused);
    REQUIRE(refused.opt);
    CHECK(option_data(*refused.opt, option_ede) == Bytes{0, 20});

    TcpClient tcp("127.0.0.1", dnsd.port("127.0.0.1", "tcp"));
    for (uint16_t type : {uint16_t{252}, uint16_t{251}}) {  // AXFR, IXFR
        Bytes transfer = make_query(2, "static.test", type);
        add_opt(transfer, 1232);
        tcp.send_message(transfer);
        const std::optional<Bytes> bytes = tcp.receive_message(5s);
        REQUIRE(bytes);
        const std::optional<Response> response = parse_response(*bytes);
        REQUIRE((response && response->opt));
        CHECK(response->header.rcode() == rcode::refused);
        CHECK(option_data(*response->opt, option_ede) == Bytes{0, 18});
    }
    // Without EDNS: no OPT to carry it.
    CHECK_FALSE(udp_response(port, make_query(3, "www.example.com", rrtype::A)).opt);
    // dig shows it as a person would read it.
    const DigResult dug = dig(port, {"www.example.com", "A"});
    CHECK(dug.status == "REFUSED");
    CHECK(dug.output.find("EDE: 20") != std::string::npos);
}

namespace {

// True when `client` gets an answer with addresses to a query for static.test A.
bool answers(TcpClient& client, uint16_t id) {
    client.send_message(make_query(id, "static.test", rrtype::A));
    const std::optional<Bytes> bytes = client.receive_message(3s);
    if (!bytes) return false;
    const std::optional<Response> response = parse_response(*bytes);
    return response && response->header.id == id && !response->answer_addresses.empty();
}

// The same on a new connection from `source`.
bool tcp_served(uint16_t port, const std::string& source, uint16_t id) {
    TcpClient client("127.0.0.1", port, source);
    return answers(client, id);
}

}  // namespace

TEST_CASE("TCP: one address holds at most max_connections_per_client, across workers", "[e2e][tcp]") {
    DnsdOptions options;
    options.config_json = R"({"tcp": {"max_connections_per_client": 3}})";
    options.extra_args = {"--threads", "2"};
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port("127.0.0.1", "tcp");
    std::vector<std::unique_ptr<TcpClient>> held;
    for (uint16_t id = 1; id <= 3; ++id) {
        held.push_back(std::make_unique<TcpClient>("127.0.0.1", port, "127.0.6.1"));
        CHECK(answers(*held.back(), id));
    }
    for (int i = 0; i < 4; ++i) {
        TcpClient over("127.0.0.1", port, "127.0.6.1");
        CHECK(over.closed_by_peer(3s));
    }
    CHECK(tcp_served(port, "127.0.6.2", 10));  // another address is not held back
    held.pop_back();
    bool served = false;
    for (auto deadline = Clock::now() + 5s; !served && Clock::now() < deadline;) served = tcp_served(port, "127.0.6.1", 11);
    CHECK(served);
}

TEST_CASE("TCP: at the global cap the longest-idle connection makes room", "[e2e][tcp]") {
    DnsdOptions options;
    options.config_json = R"({"tcp": {"max_connections": 3}})";
    options.extra_args = {"--threads", "1"};
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port("127.0.0.1", "tcp");
    TcpClient idle("127.0.0.1", port, "127.0.7.1");
    CHECK(answers(idle, 1));
    TcpClient busy1("127.0.0.1", port, "127.0.7.2");
    TcpClient busy2("127.0.0.1", port, "127.0.7.3");
    CHECK(answers(busy1, 2));
    CHECK(answers(busy2, 3));
    CHECK(answers(busy1, 4));  // busy1 and busy2 were active after `idle`

    CHECK(tcp_served(port, "127.0.7.4", 5));  // a fourth: served
    CHECK(idle.closed_by_peer(3s));           // the longest idle made room
    CHECK(answers(busy1, 6));
    CHECK(metric(dnsd.http_port(), R"(dnsd_tcp_connections_total{result="evicted"})") >= 1);
}

TEST_CASE("TCP: clients that trickle bytes from many addresses lose their slots", "[e2e][tcp]") {
    DnsdOptions options;
    options.config_json = R"({"tcp": {"max_connections": 20, "idle_timeout": 2}})";
    // One worker: a worker makes room by closing its own longest-idle
    // connection, and with two the kernel may hand the newcomer to a worker
    // holding none of the 20 slots, which then refuses it.
    options.extra_args = {"--threads", "1"};
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port("127.0.0.1", "tcp");
    // 40 clients, each sending its query a byte every 300 ms: never idle,
    // never whole within the 2 s a message may take.
    std::vector<std::unique_ptr<TcpClient>> tricklers;
    for (int i = 1; i <= 40; ++i)
        tricklers.push_back(std::make_unique<TcpClient>("127.0.0.1", port, "127.0.8." + std::to_string(i)));
    Bytes framed = make_query(1, "static.test", rrtype::A);
    const size_t size = framed.size();
    framed.insert(framed.begin(), {static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)});
    std::vector<bool> open(tricklers.size(), true);
    size_t still_open = tricklers.size();
    for (size_t byte = 0; byte < framed.size() - 1 && still_open > 0; ++byte) {
        for (size_t i = 0; i < tricklers.size(); ++i) {
            if (!open[i]) continue;
            bool closed = tricklers[i]->closed_by_peer(1ms);
            if (!closed) {
                try {
                    tricklers[i]->send_raw({framed[byte]});
                } catch (const std::runtime_error&) {
                    closed = true;  // reset by the server meanwhile
                }
            }
            if (closed) {
                open[i] = false;
                --still_open;
            }
        }
        if (byte == 2) CHECK(tcp_served(port, "127.0.9.1", 3));  // while they trickle
        std::this_thread::sleep_for(300ms);  // the trickle's pace
    }
    INFO(still_open << " trickling connections still open after " << framed.size() - 1 << " bytes");
    CHECK(still_open == 0);
    // Others are answered over TCP all the while, and after.
    CHECK(tcp_served(port, "127.0.9.1", 2));
}

}  // namespace dnsd::e2e
