// Registrations at scale (tools/bench-registrations): the real binary on
// loopback holds N registrations (default 10,000) in one pool and gets every
// one renewed once per renewal period (default 30 s) for a number of periods.
// The N registrations are in the state directory when dnsd starts (as after a
// restart), so that the run measures the steady state. It prints
// - how long dnsd took from its start to ready with them,
// - the CPU time of dnsd's control loop (its main thread, /proc) and of the
//   whole process over the renewal periods, as a share of one core,
// - the publish latency: once a second during the renewals a new member is
//   registered in a small pool of the same zone (so that each publish derives
//   the zone with the N-member pool in it), and the time from sending its PUT
//   to the first UDP answer that has it is measured; then it is deleted.
//
//   dnsd_bench_registrations [--registrations N] [--period S] [--periods P]
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.hpp"
#include "tests/e2e/http_client.hpp"

namespace {

using namespace dnsd::e2e;
using Clock = std::chrono::steady_clock;

struct Settings {
    unsigned registrations = 10'000;
    unsigned period_s = 30;
    unsigned periods = 2;
};

std::string member_address(unsigned index) {
    return "10." + std::to_string(index >> 16 & 255) + "." + std::to_string(index >> 8 & 255) + "." +
           std::to_string(index & 255);
}

constexpr const char* zone_text = R"({
  "zone": "elastic.bench", "ttl": 30,
  "soa": {"mname": "ns1", "rname": "hostmaster.elastic.bench.", "serial": 1},
  "records": {"@": {"NS": ["ns1"]}, "ns1": {"A": ["192.0.2.53"]}, "web": {"pool": "web"}, "canary": {"pool": "canary"}},
  "pools": {
    "web": {"ttl": 30, "max_answers": 4, "members": [{"address": "192.0.2.1"}]},
    "canary": {"ttl": 30, "members": [{"address": "192.0.2.2"}]}
  }
})";

// utime + stime of /proc/PID/task/TID/stat, in seconds.
double cpu_seconds(const std::string& stat_path) {
    std::ifstream in(stat_path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command, which is in parentheses and may hold blanks.
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14 || i == 15) ticks += std::stod(field);
        if (i == 15) break;
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// PUT and DELETE on one kept-alive connection, opened again if the server closes it.
class Client {
public:
    explicit Client(uint16_t port) : port_(port) {}

    int request(const std::string& method, const std::string& target, const std::string& body) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (!connection_) connection_ = std::make_unique<HttpConnection>(port_);
            if (connection_->send(method, target, body)) {
                if (auto response = connection_->receive(std::chrono::seconds(30))) return response->status;
            }
            connection_.reset();
        }
        return 0;
    }

private:
    uint16_t port_;
    std::unique_ptr<HttpConnection> connection_;
};

std::string path(const std::string& pool, const std::string& address) {
    return "/v1/zones/elastic.bench/pools/" + pool + "/registrations/" + address;
}

bool answers_with(uint16_t port, const std::string& address) {
    const auto addresses = udp_response(port, make_query(1, "canary.elastic.bench", rrtype::A)).answer_addresses;
    return std::find(addresses.begin(), addresses.end(), address) != addresses.end();
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

int run(const Settings& settings) {
    TempDir dir;
    dir.write("zones/elastic.bench.json", zone_text);
    const std::string lease = R"({"lease": )" + std::to_string(settings.period_s * 3) + "}";
    const auto lease_end = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count() + settings.period_s * 3;
    std::string kept = R"({"version": 1, "registrations": [)";
    for (unsigned i = 0; i < settings.registrations; ++i)
        kept += std::string(i == 0 ? "" : ",") + R"({"zone": "elastic.bench", "pool": "web", "address": ")" +
                member_address(i) + R"(", "expires_at": )" + std::to_string(lease_end) + "}";
    dir.write("state/registrations.json", kept + "]}");
    DnsdOptions options;
    options.zones_dir = dir.path() / "zones";
    options.state_dir = dir.path() / "state";
    options.listen = {"127.0.0.1:0"};
    options.extra_args = {"--threads", "1"};
    options.start_timeout = std::chrono::seconds(120);  // a busy machine starts slowly
    const auto launched = Clock::now();
    Dnsd server(options);
    std::printf("started with %u registrations restored in %.2f s\n", settings.registrations,
                std::chrono::duration<double>(Clock::now() - launched).count());
    const std::string task = "/proc/" + std::to_string(server.pid()) + "/task/" + std::to_string(server.pid()) + "/stat";
    const std::string process = "/proc/" + std::to_string(server.pid()) + "/stat";
    Client client(server.http_port());

    // Renewals paced evenly over each period; a canary registered and deleted each second.
    const double loop_before = cpu_seconds(task), process_before = cpu_seconds(process);
    const auto start = Clock::now();
    const auto total = std::chrono::seconds(settings.period_s * settings.periods);
    const uint64_t renewals = uint64_t{settings.registrations} * settings.periods;
    std::vector<double> latencies_ms;
    uint64_t renewed = 0, failed = 0;
    auto next_canary = start + std::chrono::seconds(1);
    unsigned canary = 0;
    while (renewed < renewals) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(total) * (static_cast<double>(renewed) / renewals));
        if (Clock::now() < due) {
            if (Clock::now() >= next_canary) {
                const std::string address = "192.0.2." + std::to_string(100 + canary++ % 100);
                const auto sent = Clock::now();
                if (client.request("PUT", path("canary", address), lease) == 201) {
                    while (!answers_with(server.port(), address) && Clock::now() - sent < std::chrono::seconds(10)) {
                    }
                    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
                }
                client.request("DELETE", path("canary", address), "");
                next_canary += std::chrono::seconds(1);
                continue;
            }
            std::this_thread::sleep_until(std::min(due, next_canary));
            continue;
        }
        if (client.request("PUT", path("web", member_address(renewed % settings.registrations)), lease) != 200) ++failed;
        ++renewed;
    }
    const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
    const double loop_cpu = cpu_seconds(task) - loop_before;
    const double process_cpu = cpu_seconds(process) - process_before;
    std::printf("renewed %llu times over %.1f s (%.0f/s), %llu not 200\n", static_cast<unsigned long long>(renewed),
                wall_s, static_cast<double>(renewed) / wall_s, static_cast<unsigned long long>(failed));
    std::printf("control loop CPU %.2f s = %.1f%% of a core; whole process %.2f s = %.1f%%\n", loop_cpu,
                100 * loop_cpu / wall_s, process_cpu, 100 * process_cpu / wall_s);
    if (!latencies_ms.empty())
        std::printf("publish latency (PUT sent to answered), %zu new members: median %.2f ms, p90 %.2f ms, max %.2f ms\n",
                    latencies_ms.size(), percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.9),
                    percentile(latencies_ms, 1.0));
    return failed == 0 ? 0 : 1;
}

bool number(const char* text, unsigned& out) {
    const char* end = text + std::strlen(text);
    const auto [at, error] = std::from_chars(text, end, out);
    return error == std::errc() && at == end && out > 0;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        unsigned* target = flag == "--registrations" ? &settings.registrations
                           : flag == "--period"      ? &settings.period_s
                           : flag == "--periods"     ? &settings.periods
                                                     : nullptr;
        if (target == nullptr || i + 1 >= argc || !number(argv[++i], *target)) {
            std::fprintf(stderr, "usage: %s [--registrations N] [--period S] [--periods P]\n", argv[0]);
            return 2;
        }
    }
    if (settings.registrations > 1u << 24) {
        std::fprintf(stderr, "at most %u registrations (10.0.0.0/8)\n", 1u << 24);
        return 2;
    }
    return run(settings);
}
