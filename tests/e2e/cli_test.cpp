// The command line and process lifecycle of the real binary: signals, start-up
// failures, `dnsd check`, --version, --help.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.hpp"

namespace dnsd::e2e {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// The lines of `text` that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, std::string_view needle) {
    std::vector<std::string> out;
    for (auto& line : lines_of(text))
        if (line.find(needle) != std::string::npos) out.push_back(line);
    return out;
}

CommandResult run_dnsd(std::vector<std::string> args, std::chrono::milliseconds timeout = 10s) {
    args.insert(args.begin(), DNSD_BINARY);
    return run_command(args, timeout);
}

const std::string zones = (data_dir() / "zones").string();

// A zone with a known shape: 3 names with data, 1 pool of 2 members.
constexpr const char* good_zone = R"({
  "zone": "good.test",
  "soa": { "mname": "ns1", "rname": "hostmaster.good.test.", "serial": 1 },
  "records": {
    "@": { "NS": ["ns1"] },
    "ns1": { "A": ["192.0.2.53"] },
    "www": { "pool": "web" }
  },
  "pools": { "web": { "members": [ { "address": "192.0.2.10" }, { "address": "192.0.2.11" } ] } }
}
)";

// Two problems: a bad IPv4 address at line 6, column 20, and an IPv4
// address under AAAA at line 7, column 23.
constexpr const char* bad_zone = R"({
  "zone": "bad.test",
  "soa": { "mname": "ns1", "rname": "hostmaster.bad.test.", "serial": 1 },
  "records": {
    "@": { "NS": ["ns1"] },
    "ns1": { "A": ["192.0.2.300"] },
    "www": { "AAAA": ["192.0.2.1"] }
  }
}
)";

// A TCP socket listening on 127.0.0.1 on a free port, without SO_REUSEPORT.
class PlainListener {
public:
    PlainListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd_, 4) == 0);
        socklen_t size = sizeof address;
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
        port_ = ntohs(address.sin_port);
    }
    ~PlainListener() { ::close(fd_); }
    PlainListener(const PlainListener&) = delete;
    PlainListener& operator=(const PlainListener&) = delete;
    uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    uint16_t port_ = 0;
};

TEST_CASE("SIGTERM stops the server with exit 0 even with stalled clients", "[e2e][cli]") {
    // An hour's idle timeout: the server must close the stalled connections
    // itself rather than wait for them, or stop() ends it with SIGKILL.
    DnsdOptions options;
    options.config_json = R"({ "tcp": { "idle_timeout": 3600 } })";
    Dnsd dnsd(options);
    const uint16_t port = dnsd.port("127.0.0.1", "tcp");
    TcpClient idle("127.0.0.1", port);
    TcpClient stalled("127.0.0.1", port);
    stalled.send_raw({0, 40, 1, 2, 3});  // a message that never completes
    TcpClient answered("127.0.0.1", port);
    answered.send_message(make_query(9, "static.test", rrtype::A));
    REQUIRE(answered.receive_message(3s));

    CHECK(dnsd.stop() == 0);
    CHECK(idle.closed_by_peer(1s));
    CHECK(stalled.closed_by_peer(1s));
    CHECK(dnsd.log().find("stopping on SIGTERM") != std::string::npos);
}

// Each thread of `pid`: its name and its niceness (/proc/PID/task/TID/stat).
std::vector<std::pair<std::string, int>> threads_of(pid_t pid) {
    std::vector<std::pair<std::string, int>> out;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream in(task.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const size_t open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        // After the name: field 3 (state) onwards; niceness is field 19.
        std::istringstream fields(stat.substr(close + 2));
        std::string field;
        for (int i = 3; i <= 19 && fields >> field; ++i) {}
        out.emplace_back(stat.substr(open + 1, close - open - 1), std::stoi(field));
    }
    return out;
}

TEST_CASE("The workers keep the priority dnsd started with, the control loop gives way to them", "[e2e][cli]") {
    DnsdOptions options;
    options.extra_args = {"--threads", "2"};
    Dnsd dnsd(options);
    const int started = ::getpriority(PRIO_PROCESS, 0);  // dnsd inherits the test's niceness
    int workers = 0, control = -100;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
        workers = 0;
        for (const auto& [name, niceness] : threads_of(dnsd.pid())) {
            if (name == "dnsd-worker") workers += niceness == started;
            if (name == "dnsd") control = niceness;  // the main thread's name is the binary's
        }
        if (workers == 2 && control == std::max(started, 10)) break;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    CHECK(workers == 2);
    CHECK(control == std::max(started, 10));
    CHECK(dnsd.stop() == 0);
}

TEST_CASE("SIGINT stops the server with exit 0", "[e2e][cli]") {
    // timeout(1) sends SIGINT after 8 s and passes on dnsd's own exit status.
    // 8 s: an ASan build on a busy machine compiles the shipped GeoIP
    // database's map for several seconds before it is ready.
    CommandResult result = run_command({"timeout", "--preserve-status", "-s", "INT", "8", DNSD_BINARY,
                                        "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--zones", zones},
                                       30s);
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.err.find("ready") != std::string::npos);
    CHECK(result.err.find("stopping on SIGINT") != std::string::npos);
}

TEST_CASE("A port in use stops start-up with one line naming the address", "[e2e][cli]") {
    SECTION("taken by another dnsd (whose sockets allow port sharing)") {
        DnsdOptions options;
        options.listen = {"127.0.0.1:0"};
        Dnsd first(options);
        const std::string endpoint = "127.0.0.1:" + std::to_string(first.port("127.0.0.1", "udp"));
        CommandResult result = run_dnsd({"--listen", endpoint, "--http", "127.0.0.1:0", "--zones", zones});
        INFO(result.err);
        CHECK(result.exit_code != 0);
        CHECK_FALSE(result.timed_out);
        CHECK(lines_with(result.err, "error").size() == 1);
        CHECK(lines_with(result.err, "cannot listen on udp " + endpoint + ": address already in use").size() == 1);
        // The first server is unharmed.
        CHECK(udp_exchange(first.port("127.0.0.1", "udp"), make_query(3, "static.test", rrtype::A)));
    }
    SECTION("TCP taken by a plain listener, UDP free") {
        PlainListener taken;
        const std::string endpoint = "127.0.0.1:" + std::to_string(taken.port());
        CommandResult result = run_dnsd({"--listen", endpoint, "--http", "127.0.0.1:0", "--zones", zones});
        INFO(result.err);
        CHECK(result.exit_code != 0);
        CHECK(lines_with(result.err, "error").size() == 1);
        CHECK(lines_with(result.err, "cannot listen on tcp " + endpoint + ": address already in use").size() == 1);
    }
}

TEST_CASE("A missing zones directory stops start-up with one line naming it", "[e2e][cli]") {
    TempDir dir;
    const std::string missing = (dir.path() / "no-such-dir").string();
    CommandResult result = run_dnsd({"--listen", "127.0.0.1:0", "--zones", missing});
    INFO(result.err);
    CHECK(result.exit_code != 0);
    CHECK(lines_with(result.err, "error").size() == 1);
    CHECK(lines_with(result.err, missing).size() == 1);
    CHECK(lines_with(result.err, "ready").empty());
}

TEST_CASE("An unreadable or invalid config stops start-up naming the file", "[e2e][cli]") {
    TempDir dir;
    SECTION("unreadable") {
        const std::string missing = (dir.path() / "missing.json").string();
        CommandResult result = run_dnsd({"--config", missing, "--listen", "127.0.0.1:0", "--zones", zones});
        INFO(result.err);
        CHECK(result.exit_code != 0);
        CHECK(lines_with(result.err, "error").size() == 1);
        CHECK(lines_with(result.err, missing).size() == 1);
    }
    SECTION("invalid") {
        const std::string file = dir.write("dnsd.json", "{\n  \"threads\": \"many\"\n}\n").string();
        CommandResult result = run_dnsd({"--config", file, "--listen", "127.0.0.1:0", "--zones", zones});
        INFO(result.err);
        CHECK(result.exit_code != 0);
        CHECK(lines_with(result.err, file + ":2:").size() == 1);
        CHECK(lines_with(result.err, "ready").empty());
    }
}

TEST_CASE("An invalid zone at start-up prints every FILE:LINE:COL and exits 1", "[e2e][cli]") {
    TempDir dir;
    dir.write("good.test.json", good_zone);
    const std::string file = dir.write("bad.test.json", bad_zone).string();
    CommandResult result = run_dnsd({"--listen", "127.0.0.1:0", "--zones", dir.path().string()});
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK(lines_with(result.err, file + ":6:20: ").size() == 1);
    CHECK(lines_with(result.err, file + ":7:23: ").size() == 1);
    CHECK(lines_with(result.err, "listening on").empty());
}

TEST_CASE("dnsd check summarises valid zones and exits 0", "[e2e][cli]") {
    TempDir dir;
    dir.write("zones/good.test.json", good_zone);
    CommandResult result = run_dnsd({"check", "--zones", (dir.path() / "zones").string()});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK(lines_with(result.out, "1 zones, 3 names, 1 pools, 2 members").size() == 1);
    CHECK(lines_with(result.out, "good.test: ").size() == 1);
    CHECK(result.err.empty());

    SECTION("with a config file naming the zones directory") {
        const std::string config = dir.write("dnsd.json", R"({"zones": "zones"})").string();
        CommandResult with_config = run_dnsd({"check", "--config", config});
        INFO(with_config.out << with_config.err);
        CHECK(with_config.exit_code == 0);
        CHECK(lines_with(with_config.out, "1 zones, 3 names, 1 pools, 2 members").size() == 1);
    }
}

TEST_CASE("dnsd check prints every problem as FILE:LINE:COL: message and exits 1", "[e2e][cli]") {
    TempDir dir;
    dir.write("good.test.json", good_zone);
    const std::string file = dir.write("bad.test.json", bad_zone).string();
    CommandResult result = run_dnsd({"check", "--zones", dir.path().string()});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 1);
    const auto address = lines_with(result.err, file + ":6:20: ");
    REQUIRE(address.size() == 1);
    CHECK(address.front().find("192.0.2.300") != std::string::npos);
    CHECK(lines_with(result.err, file + ":7:23: ").size() == 1);
    // Every line is a located diagnostic; no summary claims success.
    for (const auto& line : lines_of(result.err)) CHECK(line.starts_with(file + ":"));
    CHECK(lines_with(result.out, " zones, ").empty());
}

TEST_CASE("dnsd check reports JSON nested too deep at FILE:LINE:COL and exits 1", "[e2e][cli]") {
    TempDir dir;
    dir.write("good.test.json", good_zone);
    // 64 lists, then an object one level too deep: the object opens at column 65.
    const std::string file = dir.write("deep.test.json", std::string(64, '[') + "{}" + std::string(64, ']')).string();
    CommandResult result = run_dnsd({"check", "--zones", dir.path().string()});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 1);
    CHECK(lines_of(result.err) == std::vector<std::string>{file + ":1:65: nested too deep: more than 64 levels of "
                                                                  "lists and objects; flatten the document"});
}

TEST_CASE("dnsd check reports a missing zones directory", "[e2e][cli]") {
    TempDir dir;
    const std::string missing = (dir.path() / "nowhere").string();
    CommandResult result = run_dnsd({"check", "--zones", missing});
    CHECK(result.exit_code == 1);
    CHECK(lines_with(result.err, missing).size() == 1);
}

TEST_CASE("dnsd --version prints the version", "[e2e][cli]") {
    CommandResult result = run_dnsd({"--version"});
    CHECK(result.exit_code == 0);
    CHECK(result.out == std::string("dnsd ") + DNSD_VERSION + "\n");
}

TEST_CASE("dnsd --help lists the subcommand and every flag", "[e2e][cli]") {
    CommandResult result = run_dnsd({"--help"});
    CHECK(result.exit_code == 0);
    for (const char* word : {"check", "--config", "--listen", "--zones", "--geoip", "--threads", "--http",
                             "--log-level", "--state-dir", "--version"})
        CHECK(result.out.find(word) != std::string::npos);
}

TEST_CASE("Bad flags are rejected before anything starts", "[e2e][cli]") {
    for (std::vector<std::string> args : {std::vector<std::string>{"--listen", "127.0.0.1"},
                                          {"--listen", "[::1:53"},
                                          {"--threads", "-1"},
                                          {"--log-level", "loud"},
                                          {"--state-dir", ""},
                                          {"--no-such-flag"}}) {
        INFO(args[0] << " " << (args.size() > 1 ? args[1] : ""));
        args.insert(args.end(), {"--zones", zones});
        CommandResult result = run_dnsd(args);
        CHECK(result.exit_code != 0);
        CHECK_FALSE(result.timed_out);
        CHECK(lines_with(result.err, "ready").empty());
    }
}

}  // namespace
}  // namespace dnsd::e2e
