#pragma once
// End-to-end harness: starts the real dnsd binary on loopback port 0, reads its
// ports back from its log, and queries it with dig, kdig, c-ares or raw bytes.
// Every wait polls with a deadline; nothing sleeps for synchronisation.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dnsd::e2e {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

// tests/data/e2e in the source tree.
std::filesystem::path data_dir();

// A file's whole content; empty when it cannot be read.
std::string read_text(const std::filesystem::path& path);

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // Writes `content` to `relative`, creating parent directories; returns the full path.
    std::filesystem::path write(const std::filesystem::path& relative, std::string_view content) const;

private:
    std::filesystem::path path_;
};

struct CommandResult {
    int exit_code = -1;  // 128 + signal number when killed by a signal
    bool timed_out = false;
    std::string out;
    std::string err;
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null; kills it at the timeout.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = 10s);

// A port on `address` that is free for both TCP and UDP right now, for a
// server that cannot be given port 0 (another process may take it first).
uint16_t free_port(const std::string& address = "127.0.0.1");

// True when loopback is the only network interface: the test runs in a
// network namespace of its own (tools/test does so as root), where wildcard
// addresses reach no other host and firewall rules touch nothing else.
bool only_loopback();

// A child process with stdout and stderr appended to a log file. The
// destructor stops it.
class Process {
public:
    // Throws when the program cannot be started. `cwd` empty: the caller's.
    // `descriptors` become the child's 3, 4, ... in order (each must be above
    // the last of those numbers, so that no dup2 lands on another's source).
    Process(const std::vector<std::string>& argv, const std::filesystem::path& log_path,
            const std::filesystem::path& cwd = {}, const std::vector<int>& descriptors = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    // True once the process has exited (reaped without blocking).
    bool exited();
    // SIGTERM, then waits (SIGKILL after `grace`); returns the exit status as in
    // CommandResult. Later calls return the same status.
    int stop(std::chrono::milliseconds grace = 10s);
    // The exit status once exited(), else -1.
    int status() const { return status_; }
    // The process id while it runs (for signals and /proc), else -1.
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int status_ = -1;
};

struct DnsdOptions {
    std::filesystem::path zones_dir = data_dir() / "zones";
    // Written to the server's temp dir and passed with --config when set.
    std::optional<std::string> config_json;
    std::vector<std::string> listen{"127.0.0.1:0", "[::1]:0"};
    // Passed as --http; port 0 so that servers running side by side never
    // collide on the default 8053. Nullopt: no flag, the config decides.
    std::optional<std::string> http = "127.0.0.1:0";
    // Passed as --state-dir. Nullopt: a directory of the server's own, so
    // that no server reads what another left (nor one in the source tree).
    std::optional<std::filesystem::path> state_dir;
    std::vector<std::string> extra_args;  // e.g. {"--threads", "1"}
    std::chrono::milliseconds start_timeout = 20s;
    // Runs the server with this user and group id (through setpriv; the test
    // must be root), for tests that tell servers apart by their uid. The
    // server's temp dir and state dir are handed to that user.
    std::optional<uid_t> user;
};

struct Listener {
    std::string transport;  // "udp", "tcp" or "http"
    std::string address;    // as logged: "127.0.0.1", "::1"
    uint16_t port = 0;
};

// A running dnsd. The constructor returns once the server has logged its
// listeners and `ready`, and throws (with the server's log) if it exits or
// does not get there in time. The destructor stops it.
class Dnsd {
public:
    explicit Dnsd(DnsdOptions options = {});
    Dnsd(const Dnsd&) = delete;
    Dnsd& operator=(const Dnsd&) = delete;

    // The port of the first listener on `address` with `transport`; throws if none.
    uint16_t port(std::string_view address = "127.0.0.1", std::string_view transport = "udp") const;
    // The port of the HTTP endpoint (from its `listening on http` line); throws if none.
    uint16_t http_port() const;
    // Everything the server wrote (stderr and stdout) so far.
    std::string log() const;

    // SIGTERM, then waits; the exit status (see Process::stop).
    int stop() { return process_->stop(); }
    // The server's process id while it runs, else -1.
    pid_t pid() const { return process_->pid(); }

private:
    TempDir dir_;
    std::filesystem::path log_path_;
    std::unique_ptr<Process> process_;
    std::vector<Listener> listeners_;
};

// dnsd on tests/data/e2e/zones with one worker: one client's packets are
// answered in order, and consecutive queries share one rotation counter.
Dnsd start_one_worker(std::optional<std::string> config_json = std::nullopt);

// ---- NATS -----------------------------------------------------------------

// Debian's nats-server with JetStream on 127.0.0.1, its store in a temp dir of
// its own. The constructor returns once it accepts connections and throws
// (with its log) if it does not; the destructor stops it.
class NatsServer {
public:
    NatsServer();
    NatsServer(const NatsServer&) = delete;
    NatsServer& operator=(const NatsServer&) = delete;

    uint16_t port() const { return port_; }
    std::string url() const;  // "nats://127.0.0.1:PORT"
    std::string log() const;  // everything every run of it wrote
    bool running() const { return process_ != nullptr; }

    // Starts it again, on the same port and with the same store; returns once
    // it accepts connections. Nothing when it runs.
    void start();
    // SIGTERM and wait: a clean shutdown.
    void stop();
    // SIGKILL: gone at once, as in a crash.
    void kill();

private:
    // Starts it and waits; false when it exited first (its port was taken).
    bool try_start();

    TempDir dir_;
    uint16_t port_ = 0;
    std::unique_ptr<Process> process_;
};

// ---- dig / kdig -----------------------------------------------------------

// One resource record as the tool printed it, normalised: owner lower-cased,
// class and type upper-cased, RDATA with runs of blanks squeezed to one space.
struct Rr {
    std::string owner;
    uint32_t ttl = 0;
    std::string cls;
    std::string type;
    std::string rdata;

    std::string text() const;  // "owner ttl CLASS TYPE rdata"
    friend auto operator<=>(const Rr&, const Rr&) = default;
};

// The records' text forms as a set: sections compared without regard to order.
using Texts = std::set<std::string>;
Texts texts(const std::vector<Rr>& rrs);

struct DigResult {
    bool answered = false;  // a response was printed
    std::string opcode;     // "QUERY", "NOTIFY", ...
    std::string status;     // "NOERROR", "NXDOMAIN", "BADVERS", ...
    uint16_t id = 0;
    std::vector<std::string> flags;  // lower case: "qr", "aa", "tc", "rd", "ra", ...
    unsigned qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
    std::string question;  // the question line's text, case kept: "Www.Demo.Example. IN A"
    std::vector<Rr> answer, authority, additional;

    bool edns = false;  // an OPT pseudo-section was printed
    unsigned edns_version = 0;
    unsigned udp_payload = 0;
    std::optional<std::string> nsid;           // the NSID bytes
    std::optional<std::string> client_subnet;  // "ADDRESS/SOURCE/SCOPE"

    std::string output;  // the tool's whole stdout and stderr, for failure messages

    bool has_flag(std::string_view flag) const;
    // The records of `section` ("answer", "authority", "additional") of `type`.
    std::vector<Rr> records(std::string_view section, std::string_view type) const;
};

// Runs `dig @SERVER -p PORT +tries=1 +time=2 ARGS...` and parses what it printed.
DigResult dig(uint16_t port, const std::vector<std::string>& args, std::string_view server = "127.0.0.1");
// The same with kdig (`@SERVER -p PORT +retry=0 +time=2 ARGS...`).
DigResult kdig(uint16_t port, const std::vector<std::string>& args, std::string_view server = "127.0.0.1");

// ---- raw wire -------------------------------------------------------------

namespace rrtype {
inline constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, MX = 15, TXT = 16, AAAA = 28,
                          SRV = 33, OPT = 41;
}
namespace rcode {
inline constexpr unsigned noerror = 0, formerr = 1, nxdomain = 3, notimp = 4, refused = 5;
}

struct Header {
    uint16_t id = 0;
    uint16_t flags = 0;  // QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE as on the wire
    uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

    bool qr() const { return flags & 0x8000; }
    unsigned opcode() const { return (flags >> 11) & 0xF; }
    bool aa() const { return flags & 0x0400; }
    bool tc() const { return flags & 0x0200; }
    bool rd() const { return flags & 0x0100; }
    bool ra() const { return flags & 0x0080; }
    unsigned rcode() const { return flags & 0xF; }  // low four bits only
};

// A query with one question (class IN); `flags` is the header's flags word.
Bytes make_query(uint16_t id, std::string_view name, uint16_t qtype, uint16_t flags = 0x0100);
// Appends an OPT record and bumps ARCOUNT. `options` is the raw option area.
void add_opt(Bytes& message, uint16_t udp_payload, uint8_t version = 0, const Bytes& options = {});
// One EDNS option: code, length, data.
Bytes edns_option(uint16_t code, const Bytes& data);

struct Opt {
    uint16_t udp_payload = 0;
    uint8_t extended_rcode = 0;  // upper eight bits of the 12-bit RCODE
    uint8_t version = 0;
    Bytes options;
};

// A parsed response: header, the answer section's addresses, and the OPT.
struct Response {
    Header header;
    std::vector<std::string> answer_addresses;  // A and AAAA in the answer section, in order
    std::vector<uint16_t> answer_types;         // every answer record's type, in order
    std::optional<Opt> opt;
    unsigned opt_count = 0;
};
// Nullopt when the bytes are not a well-formed message.
std::optional<Response> parse_response(const Bytes& message);

// A UDP socket connected to the server; bound to `source` (say, one of the
// many addresses of 127.0.0.0/8) when given.
class UdpClient {
public:
    UdpClient(std::string_view address, uint16_t port, std::string_view source = {});
    ~UdpClient();
    UdpClient(const UdpClient&) = delete;
    UdpClient& operator=(const UdpClient&) = delete;

    void send(const Bytes& datagram);
    // The next datagram, or nullopt when none arrives in time.
    std::optional<Bytes> receive(std::chrono::milliseconds timeout = 2s);

private:
    int fd_ = -1;
};

// A TCP connection to the server, from `source` when given.
class TcpClient {
public:
    TcpClient(std::string_view address, uint16_t port, std::string_view source = {});
    ~TcpClient();
    TcpClient(const TcpClient&) = delete;
    TcpClient& operator=(const TcpClient&) = delete;

    void send_raw(const Bytes& bytes);      // exactly these bytes
    void send_message(const Bytes& message);  // with the two-octet length prefix
    // The next length-prefixed message; nullopt on timeout or when the server closes.
    std::optional<Bytes> receive_message(std::chrono::milliseconds timeout = 2s);
    // True when the server closes the connection (EOF or reset) within the timeout.
    bool closed_by_peer(std::chrono::milliseconds timeout = 2s);

private:
    // Fills `out` with exactly out.size() bytes; false on timeout or EOF.
    bool read_exact(uint8_t* out, size_t size, std::chrono::steady_clock::time_point deadline);
    int fd_ = -1;
};

// One query, one response over UDP; nullopt when no answer arrives in time.
std::optional<Bytes> udp_exchange(uint16_t port, const Bytes& query, std::string_view address = "127.0.0.1",
                                  std::chrono::milliseconds timeout = 2s);
// The same, parsed; throws when no well-formed response arrives.
Response udp_response(uint16_t port, const Bytes& query);

// ---- c-ares ---------------------------------------------------------------

struct AresResult {
    int status = -1;  // ARES_SUCCESS (0) or an ARES_E* code
    Bytes answer;     // the raw response
    std::vector<std::string> addresses;  // from ares_parse_a_reply / ares_parse_aaaa_reply
};

// One ares_query for `name` of type A or AAAA against 127.0.0.1:PORT.
AresResult ares_lookup(uint16_t port, std::string_view name, uint16_t qtype,
                       std::chrono::milliseconds timeout = 5s);

}  // namespace dnsd::e2e
