// A lean UDP load generator for DNS servers (tools/bench): pre-built queries
// sent with sendmmsg and read back with recvmmsg over several connected
// sockets, with a bounded number of queries in flight. Each query in flight
// holds a slot whose ID says which slot it is, so every answer is matched to
// its query, checked (QR set, same opcode, the question echoed, the expected
// rcode) and timed.
//
//   dnsd_bench_load --server ADDR:PORT (--query 'NAME TYPE [SUBNET] [RCODE]'... | --queries FILE)
//                   [--seconds S] [--count N] [--sockets K] [--window W] [--batch B]
//                   [--timeout-ms T] [--edns] [--spread-sources]
//
// A query line names a name and a type, then optionally an ECS subnet
// (ADDR/PREFIX: the query carries EDNS with that client subnet) and the rcode
// its answers must have (NOERROR, NXDOMAIN, ...). Queries are sent in turn.
// The run ends after S seconds (default 10) or, with --count, once N queries
// have been answered or lost, whichever comes first. The last line printed is
// machine-readable: `RESULT key=value ...`.
//
// --spread-sources binds socket i to 127.0.(i+1).1, so that each socket is a
// client network of its own (an IPv4 loopback server only): load from many
// clients, as a server with response rate limiting sees it.
//
// Exit status: 0 when every answer matched its query; 1 when some answer did
// not (unknown ID, malformed, question not echoed, wrong rcode), when nothing
// was answered, or, with --count, when a query was lost; 2 on bad usage.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/address.hpp"

namespace {

constexpr size_t max_query_size = 512;
constexpr size_t max_answer_size = 4096;
constexpr uint16_t ecs_option_code = 8;
constexpr uint16_t opt_type = 41;
constexpr uint16_t advertised_payload = 1232;

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

constexpr std::array<std::string_view, 11> rcode_names = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                                           "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
                                                           "NOTZONE"};

std::string rcode_name(unsigned rcode) {
    return rcode < rcode_names.size() ? std::string(rcode_names[rcode]) : "RCODE" + std::to_string(rcode);
}

std::optional<unsigned> parse_rcode(std::string_view text) {
    for (unsigned i = 0; i < rcode_names.size(); ++i)
        if (text == rcode_names[i]) return i;
    return std::nullopt;
}

template <typename Number>
Number parse_number(std::string_view text, std::string_view what) {
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size())
        throw UsageError(std::string(what) + ": not a number: " + std::string(text));
    return value;
}

uint16_t parse_type(std::string_view text) {
    static constexpr std::pair<std::string_view, uint16_t> types[] = {
        {"A", 1},    {"NS", 2},    {"CNAME", 5}, {"SOA", 6},  {"PTR", 12}, {"MX", 15},
        {"TXT", 16}, {"AAAA", 28}, {"SRV", 33},  {"ANY", 255}, {"CAA", 257}};
    for (const auto& [name, number] : types)
        if (text == name) return number;
    if (text.starts_with("TYPE")) return parse_number<uint16_t>(text.substr(4), "type");
    throw UsageError("unknown record type " + std::string(text) + " (use TYPEnnn for others)");
}

void put16(std::vector<uint8_t>& out, unsigned value) {
    out.push_back(uint8_t(value >> 8));
    out.push_back(uint8_t(value));
}

// One query, built once, sent many times with only its ID changed.
struct Query {
    std::vector<uint8_t> wire;  // ID 0
    size_t question_end = 0;    // the question is wire[12, question_end)
    std::optional<unsigned> expected_rcode;
};

void append_ecs_opt(std::vector<uint8_t>& wire, std::string_view subnet) {
    const auto slash = subnet.find('/');
    if (slash == std::string_view::npos) throw UsageError("subnet needs a prefix length: " + std::string(subnet));
    const std::string address(subnet.substr(0, slash));
    const unsigned prefix = parse_number<unsigned>(subnet.substr(slash + 1), "subnet prefix");
    std::array<uint8_t, 16> bytes{};
    unsigned family = 0;
    if (inet_pton(AF_INET, address.c_str(), bytes.data()) == 1 && prefix <= 32) {
        family = 1;
    } else if (inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1 && prefix <= 128) {
        family = 2;
    } else {
        throw UsageError("bad subnet " + std::string(subnet));
    }
    const unsigned address_bytes = (prefix + 7) / 8;
    if (prefix % 8 != 0) bytes[address_bytes - 1] &= uint8_t(0xff << (8 - prefix % 8));  // RFC 7871: zero past the prefix

    wire.push_back(0);  // the root: OPT's owner
    put16(wire, opt_type);
    put16(wire, advertised_payload);
    put16(wire, 0);  // extended rcode, version
    put16(wire, 0);  // flags
    put16(wire, 4 + 4 + address_bytes);
    put16(wire, ecs_option_code);
    put16(wire, 4 + address_bytes);
    put16(wire, family);
    wire.push_back(uint8_t(prefix));
    wire.push_back(0);  // scope
    wire.insert(wire.end(), bytes.begin(), bytes.begin() + address_bytes);
}

void append_plain_opt(std::vector<uint8_t>& wire) {
    wire.push_back(0);
    put16(wire, opt_type);
    put16(wire, advertised_payload);
    put16(wire, 0);
    put16(wire, 0);
    put16(wire, 0);
}

// "NAME TYPE [SUBNET] [RCODE]"
Query parse_query(const std::string& line, bool edns) {
    std::istringstream words(line);
    std::string name, type, word;
    if (!(words >> name >> type)) throw UsageError("a query needs a name and a type: " + line);
    std::optional<std::string> subnet;
    Query query;
    while (words >> word) {
        if (word.find('/') != std::string::npos && !subnet) {
            subnet = word;
        } else if (const auto rcode = parse_rcode(word); rcode && !query.expected_rcode) {
            query.expected_rcode = rcode;
        } else {
            throw UsageError("expected a subnet (ADDR/PREFIX) or an rcode (NOERROR, NXDOMAIN, ...), not '" + word +
                             "' in: " + line);
        }
    }

    auto& wire = query.wire;
    wire = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, uint8_t(subnet || edns ? 1 : 0)};  // ID 0, no flags, QDCOUNT 1
    size_t name_length = 1;
    std::string_view rest(name);
    if (rest.ends_with('.')) rest.remove_suffix(1);
    while (!rest.empty()) {
        const auto dot = rest.find('.');
        const auto label = rest.substr(0, dot);
        if (label.empty() || label.size() > 63) throw UsageError("bad name " + name);
        wire.push_back(uint8_t(label.size()));
        wire.insert(wire.end(), label.begin(), label.end());
        name_length += 1 + label.size();
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    if (name_length > 255) throw UsageError("name too long: " + name);
    wire.push_back(0);
    put16(wire, parse_type(type));
    put16(wire, 1);  // IN
    query.question_end = wire.size();
    if (subnet) {
        append_ecs_opt(wire, *subnet);
    } else if (edns) {
        append_plain_opt(wire);
    }
    if (wire.size() > max_query_size) throw UsageError("query too large: " + line);
    return query;
}

struct Settings {
    sockaddr_storage server{};
    socklen_t server_length = 0;
    std::string server_text;
    std::vector<std::string> query_lines;
    double seconds = 10;
    uint64_t count = 0;  // 0: bounded by time only
    unsigned sockets = 4;
    unsigned window = 256;
    unsigned batch = 32;
    unsigned timeout_ms = 200;
    bool edns = false;
    bool spread_sources = false;
};

void parse_server(Settings& settings, const std::string& text) {
    const std::optional<dnsd::core::Endpoint> endpoint = dnsd::core::Endpoint::parse(text);
    if (!endpoint) throw UsageError("--server needs ADDR:PORT or [ADDR6]:PORT, not " + text);
    settings.server_length = endpoint->to_sockaddr(settings.server);
    settings.server_text = text;
}

void read_query_file(Settings& settings, const std::string& path) {
    std::ifstream file(path);
    if (!file) throw UsageError("cannot read " + path);
    std::string line;
    while (std::getline(file, line)) {
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        if (line.find_first_not_of(" \t\r") != std::string::npos) settings.query_lines.push_back(line);
    }
}

Settings parse_arguments(int argc, char** argv) {
    Settings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::printf(
                "usage: dnsd_bench_load --server ADDR:PORT (--query 'NAME TYPE [SUBNET] [RCODE]'... | --queries FILE)\n"
                "                       [--seconds S] [--count N] [--sockets K] [--window W] [--batch B]\n"
                "                       [--timeout-ms T] [--edns] [--spread-sources]\n");
            std::exit(0);
        }
        if (i + 1 >= argc && flag != "--edns" && flag != "--spread-sources")
            throw UsageError(std::string(flag) + " needs a value");
        if (flag == "--server") {
            parse_server(settings, argv[++i]);
        } else if (flag == "--query") {
            settings.query_lines.emplace_back(argv[++i]);
        } else if (flag == "--queries") {
            read_query_file(settings, argv[++i]);
        } else if (flag == "--seconds") {
            settings.seconds = std::strtod(argv[++i], nullptr);
            if (!(settings.seconds > 0)) throw UsageError("--seconds must be above 0");
        } else if (flag == "--count") {
            settings.count = parse_number<uint64_t>(argv[++i], "--count");
        } else if (flag == "--sockets") {
            settings.sockets = parse_number<unsigned>(argv[++i], "--sockets");
        } else if (flag == "--window") {
            settings.window = parse_number<unsigned>(argv[++i], "--window");
        } else if (flag == "--batch") {
            settings.batch = parse_number<unsigned>(argv[++i], "--batch");
        } else if (flag == "--timeout-ms") {
            settings.timeout_ms = parse_number<unsigned>(argv[++i], "--timeout-ms");
        } else if (flag == "--edns") {
            settings.edns = true;
        } else if (flag == "--spread-sources") {
            settings.spread_sources = true;
        } else {
            throw UsageError("unknown option " + std::string(flag));
        }
    }
    if (settings.server_length == 0) throw UsageError("--server is required");
    if (settings.query_lines.empty()) throw UsageError("give queries with --query or --queries");
    if (settings.sockets < 1 || settings.sockets > 64) throw UsageError("--sockets: 1 to 64");
    if (settings.window < settings.sockets || settings.window > settings.sockets * 32768u)
        throw UsageError("--window: at least one per socket, at most 32768 per socket");
    if (settings.batch < 1 || settings.batch > 1024) throw UsageError("--batch: 1 to 1024");
    if (settings.timeout_ms < 1) throw UsageError("--timeout-ms must be above 0");
    if (settings.spread_sources && settings.server.ss_family != AF_INET)
        throw UsageError("--spread-sources needs an IPv4 (loopback) server");
    return settings;
}

// Latency in whole microseconds; the last bucket holds everything slower.
class Histogram {
public:
    void add(uint64_t ns) { ++buckets_[std::min<uint64_t>(ns / 1000, buckets_.size() - 1)]; }
    void merge(const Histogram& other) {
        for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
    }
    uint64_t percentile(double fraction) const {
        uint64_t total = 0;
        for (const auto count : buckets_) total += count;
        if (total == 0) return 0;
        const auto rank = uint64_t(fraction * double(total - 1)) + 1;
        uint64_t seen = 0;
        for (size_t i = 0; i < buckets_.size(); ++i) {
            seen += buckets_[i];
            if (seen >= rank) return i;
        }
        return buckets_.size() - 1;
    }

private:
    std::vector<uint64_t> buckets_ = std::vector<uint64_t>(100'001);
};

struct Totals {
    uint64_t sent = 0;
    uint64_t answers = 0;
    uint64_t answers_in_time = 0;  // answered before the sending deadline: the rate counts these
    uint64_t lost = 0;
    uint64_t late = 0;        // an answer to a query already counted lost
    uint64_t unmatched = 0;   // an ID no query in flight has
    uint64_t malformed = 0;   // too short, QR clear, another opcode, or the question not echoed
    uint64_t wrong_rcode = 0;
    std::array<uint64_t, 16> rcodes{};
    uint64_t send_errors = 0;
    Histogram latency;
};

// A query in flight. IDs are (generation << slot_bits | slot): an answer's ID
// names its slot, and the generation tells a late answer from a current one.
struct Slot {
    uint16_t id = 0;
    uint16_t lost_id = 0;  // the ID this slot last gave up on, to recognise its late answer
    bool in_flight = false;
    bool has_lost_id = false;
    uint32_t query = 0;
    uint64_t sent_ns = 0;
    std::array<uint8_t, max_query_size> wire{};
};

// One connected socket with its own slots: its answers come back to it.
class Lane {
public:
    // `index`: the socket's number, which also says where its turn through the queries starts.
    Lane(const Settings& settings, const std::vector<Query>& queries, unsigned window, unsigned index)
        : queries_(queries), slots_(window), next_query_(index % queries.size()) {
        slot_bits_ = 0;
        while ((1u << slot_bits_) < window) ++slot_bits_;
        for (unsigned i = window; i-- > 0;) free_.push_back(i);
        fd_ = socket(settings.server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        const int buffer = 4 << 20;
        if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0)
            setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
        if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0)
            setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
        if (settings.spread_sources) {
            sockaddr_in source{};
            source.sin_family = AF_INET;
            source.sin_addr.s_addr = htonl(0x7f000001u | (index + 1) << 8);  // 127.0.(i+1).1
            if (bind(fd_, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0)
                throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
        }
        if (connect(fd_, reinterpret_cast<const sockaddr*>(&settings.server), settings.server_length) != 0)
            throw std::runtime_error("connect " + settings.server_text + ": " + std::strerror(errno));

        const unsigned batch = settings.batch;
        send_messages_.resize(batch);
        send_vectors_.resize(batch);
        send_slots_.resize(batch);
        receive_messages_.resize(batch);
        receive_vectors_.resize(batch);
        receive_buffers_.resize(size_t(batch) * max_answer_size);
        for (unsigned i = 0; i < batch; ++i) {
            receive_vectors_[i] = {receive_buffers_.data() + size_t(i) * max_answer_size, max_answer_size};
            receive_messages_[i].msg_hdr.msg_iov = &receive_vectors_[i];
            receive_messages_[i].msg_hdr.msg_iovlen = 1;
            send_messages_[i].msg_hdr.msg_iov = &send_vectors_[i];
            send_messages_[i].msg_hdr.msg_iovlen = 1;
        }
    }
    Lane(const Lane&) = delete;
    Lane& operator=(const Lane&) = delete;
    ~Lane() {
        if (fd_ >= 0) close(fd_);
    }

    int fd() const { return fd_; }
    unsigned in_flight() const { return unsigned(slots_.size() - free_.size()); }

    // Sends up to `limit` queries (at most one batch, as many as free slots allow).
    unsigned send(unsigned limit, Totals& totals) {
        const unsigned n = std::min<unsigned>({limit, unsigned(free_.size()), unsigned(send_messages_.size())});
        if (n == 0) return 0;
        const uint64_t now = now_ns();
        for (unsigned i = 0; i < n; ++i) {
            const unsigned index = free_.back();
            free_.pop_back();
            Slot& slot = slots_[index];
            const Query& query = queries_[next_query_];
            slot.query = next_query_;
            if (++next_query_ == queries_.size()) next_query_ = 0;
            slot.id = uint16_t(((slot.id >> slot_bits_) + 1) << slot_bits_ | index);
            std::memcpy(slot.wire.data(), query.wire.data(), query.wire.size());
            slot.wire[0] = uint8_t(slot.id >> 8);
            slot.wire[1] = uint8_t(slot.id);
            slot.in_flight = true;
            slot.sent_ns = now;
            send_vectors_[i] = {slot.wire.data(), query.wire.size()};
            send_slots_[i] = index;
        }
        const int sent = sendmmsg(fd_, send_messages_.data(), n, MSG_DONTWAIT);
        const unsigned accepted = sent < 0 ? 0 : unsigned(sent);
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != ECONNREFUSED)
            ++totals.send_errors;
        for (unsigned i = n; i-- > accepted;) {  // not sent: give the slots back unchanged
            slots_[send_slots_[i]].in_flight = false;
            free_.push_back(send_slots_[i]);
        }
        totals.sent += accepted;
        return accepted;
    }

    // Reads one batch of answers, if any are waiting.
    unsigned receive(uint64_t deadline_ns, Totals& totals) {
        for (auto& message : receive_messages_) message.msg_len = 0;
        const int received = recvmmsg(fd_, receive_messages_.data(), unsigned(receive_messages_.size()), MSG_DONTWAIT,
                                      nullptr);
        if (received <= 0) return 0;
        const uint64_t now = now_ns();
        for (int i = 0; i < received; ++i)
            check_answer(receive_buffers_.data() + size_t(i) * max_answer_size, receive_messages_[i].msg_len, now,
                         deadline_ns, totals);
        return unsigned(received);
    }

    void expire(uint64_t now, uint64_t timeout_ns, Totals& totals) {
        for (unsigned index = 0; index < slots_.size(); ++index) {
            Slot& slot = slots_[index];
            if (!slot.in_flight || now - slot.sent_ns < timeout_ns) continue;
            give_up(index, totals);
        }
    }

    void give_up_all(Totals& totals) {
        for (unsigned index = 0; index < slots_.size(); ++index)
            if (slots_[index].in_flight) give_up(index, totals);
    }

private:
    void give_up(unsigned index, Totals& totals) {
        Slot& slot = slots_[index];
        slot.in_flight = false;
        slot.lost_id = slot.id;
        slot.has_lost_id = true;
        free_.push_back(index);
        ++totals.lost;
    }

    void check_answer(const uint8_t* answer, size_t length, uint64_t now, uint64_t deadline_ns, Totals& totals) {
        if (length < 12) {
            ++totals.malformed;
            return;
        }
        const uint16_t id = uint16_t(answer[0] << 8 | answer[1]);
        const unsigned index = id & ((1u << slot_bits_) - 1);
        if (index >= slots_.size()) {
            ++totals.unmatched;
            return;
        }
        Slot& slot = slots_[index];
        if (!slot.in_flight || slot.id != id) {
            if (slot.has_lost_id && slot.lost_id == id) {
                ++totals.late;
                slot.has_lost_id = false;
            } else {
                ++totals.unmatched;
            }
            return;
        }
        slot.in_flight = false;
        free_.push_back(index);
        ++totals.answers;
        if (now < deadline_ns) ++totals.answers_in_time;
        totals.latency.add(now - slot.sent_ns);

        const Query& query = queries_[slot.query];
        const bool is_response = (answer[2] & 0x80) != 0;
        const bool same_opcode = (answer[2] & 0x78) == (query.wire[2] & 0x78);
        const bool one_question = answer[4] == 0 && answer[5] == 1;
        const bool question_echoed =
            length >= query.question_end &&
            std::memcmp(answer + 12, query.wire.data() + 12, query.question_end - 12) == 0;
        if (!is_response || !same_opcode || !one_question || !question_echoed) {
            ++totals.malformed;
            return;
        }
        const unsigned rcode = answer[3] & 0x0f;
        ++totals.rcodes[rcode];
        if (query.expected_rcode && *query.expected_rcode != rcode) ++totals.wrong_rcode;
    }

    const std::vector<Query>& queries_;
    std::vector<Slot> slots_;
    std::vector<unsigned> free_;
    unsigned slot_bits_ = 0;
    size_t next_query_ = 0;
    int fd_ = -1;
    std::vector<mmsghdr> send_messages_;
    std::vector<iovec> send_vectors_;
    std::vector<unsigned> send_slots_;
    std::vector<mmsghdr> receive_messages_;
    std::vector<iovec> receive_vectors_;
    std::vector<uint8_t> receive_buffers_;
};

struct Outcome {
    Totals totals;
    double elapsed_seconds = 0;  // the time the rate is over
};

Outcome run(const Settings& settings, const std::vector<Query>& queries) {
    std::vector<std::unique_ptr<Lane>> lanes;
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    for (unsigned i = 0; i < settings.sockets; ++i) {
        const unsigned window = settings.window / settings.sockets + (i < settings.window % settings.sockets ? 1 : 0);
        lanes.push_back(std::make_unique<Lane>(settings, queries, window, i));
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u32 = i;
        epoll_ctl(epoll, EPOLL_CTL_ADD, lanes.back()->fd(), &event);
    }

    Outcome outcome;
    Totals& totals = outcome.totals;
    const uint64_t start = now_ns();
    const uint64_t deadline = start + uint64_t(settings.seconds * 1e9);
    const uint64_t timeout = uint64_t(settings.timeout_ms) * 1'000'000u;
    const uint64_t drain_deadline = deadline + timeout;
    uint64_t next_expiry = start + 1'000'000u;
    uint64_t last_answer = start;
    bool sending = true;
    std::array<epoll_event, 64> events{};

    for (;;) {
        uint64_t now = now_ns();
        if (sending && (now >= deadline || (settings.count != 0 && totals.sent >= settings.count))) sending = false;
        unsigned work = 0;
        for (auto& lane : lanes) {
            if (sending) {
                const uint64_t budget = settings.count == 0 ? UINT32_MAX : settings.count - totals.sent;
                work += lane->send(unsigned(std::min<uint64_t>(budget, UINT32_MAX)), totals);
            }
            if (const unsigned answered = lane->receive(deadline, totals); answered != 0) {
                work += answered;
                last_answer = now_ns();
            }
        }
        now = now_ns();
        if (now >= next_expiry) {
            for (auto& lane : lanes) lane->expire(now, timeout, totals);
            next_expiry = now + 1'000'000u;
        }
        unsigned in_flight = 0;
        for (const auto& lane : lanes) in_flight += lane->in_flight();
        if (!sending && in_flight == 0) break;
        if (!sending && now >= drain_deadline) {
            for (auto& lane : lanes) lane->give_up_all(totals);
            break;
        }
        if (work == 0) epoll_wait(epoll, events.data(), int(events.size()), 1);
    }
    close(epoll);
    // A run bounded by count ends with its last answer; one bounded by time counts the answers within it.
    const uint64_t end = settings.count != 0 && last_answer < deadline ? last_answer : deadline;
    outcome.elapsed_seconds = double(end - start) / 1e9;
    return outcome;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    std::vector<Query> queries;
    try {
        settings = parse_arguments(argc, argv);
        for (const auto& line : settings.query_lines) queries.push_back(parse_query(line, settings.edns));
    } catch (const UsageError& error) {
        std::fprintf(stderr, "dnsd_bench_load: %s\n", error.what());
        return 2;
    }

    Outcome outcome;
    try {
        outcome = run(settings, queries);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "dnsd_bench_load: %s\n", error.what());
        return 2;
    }
    const Totals& totals = outcome.totals;
    const double rate = outcome.elapsed_seconds > 0 ? double(totals.answers_in_time) / outcome.elapsed_seconds : 0;
    const uint64_t p50 = totals.latency.percentile(0.50);
    const uint64_t p99 = totals.latency.percentile(0.99);

    std::printf("server %s: %zu queries in turn, %u sockets, window %u, batch %u, %.1f s\n",
                settings.server_text.c_str(), queries.size(), settings.sockets, settings.window, settings.batch,
                outcome.elapsed_seconds);
    std::printf("sent %lu, answered %lu, lost %lu, late %lu, unmatched %lu, malformed %lu, wrong rcode %lu\n",
                totals.sent, totals.answers, totals.lost, totals.late, totals.unmatched, totals.malformed,
                totals.wrong_rcode);
    std::printf("answers/s %.0f, latency p50 %lu us, p99 %lu us\n", rate, p50, p99);
    std::string rcodes;
    std::string rcode_fields;
    for (unsigned i = 0; i < totals.rcodes.size(); ++i) {
        if (totals.rcodes[i] == 0) continue;
        rcodes += " " + rcode_name(i) + " " + std::to_string(totals.rcodes[i]);
        rcode_fields += " rcode_" + rcode_name(i) + "=" + std::to_string(totals.rcodes[i]);
    }
    std::printf("rcodes:%s\n", rcodes.empty() ? " none" : rcodes.c_str());
    std::printf("RESULT sent=%lu answers=%lu lost=%lu late=%lu unmatched=%lu malformed=%lu wrong_rcode=%lu "
                "send_errors=%lu qps=%.0f p50_us=%lu p99_us=%lu seconds=%.3f%s\n",
                totals.sent, totals.answers, totals.lost, totals.late, totals.unmatched, totals.malformed,
                totals.wrong_rcode, totals.send_errors, rate, p50, p99, outcome.elapsed_seconds, rcode_fields.c_str());

    const bool mismatched = totals.unmatched + totals.malformed + totals.wrong_rcode != 0;
    if (mismatched) std::fprintf(stderr, "dnsd_bench_load: some answers did not match their queries\n");
    if (totals.answers == 0) std::fprintf(stderr, "dnsd_bench_load: no answers from %s\n", settings.server_text.c_str());
    const bool lost_counted = settings.count != 0 && totals.lost != 0;
    if (lost_counted) std::fprintf(stderr, "dnsd_bench_load: %lu queries lost\n", totals.lost);
    return mismatched || totals.answers == 0 || lost_counted ? 1 : 0;
}
