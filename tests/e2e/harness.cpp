#include "tests/e2e/harness.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "dnsd/core/address.hpp"

extern char** environ;

namespace dnsd::e2e {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail_errno(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Rounded up: a wait of this many milliseconds never ends before the deadline.
int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// An owned file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        reset();
        fd_ = std::exchange(other.fd_, -1);
        return *this;
    }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    for (const auto& arg : argv) out.push_back(const_cast<char*>(arg.c_str()));
    out.push_back(nullptr);
    return out;
}

// posix_spawn file actions as an owned value.
class FileActions {
public:
    FileActions() { posix_spawn_file_actions_init(&actions_); }
    ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

// Between two looks at something with nothing to block on (a growing log
// file, a child's exit): 5 ms.
void pause_briefly() {
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 5);
}

// ---- socket addresses ----

struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t size = 0;
};

SocketAddress make_address(std::string_view address, uint16_t port) {
    if (address.size() >= 2 && address.front() == '[') address = address.substr(1, address.size() - 2);
    const std::optional<core::Address> parsed = core::Address::parse(address);
    if (!parsed) throw std::runtime_error("not an IP address: " + std::string(address));
    SocketAddress out;
    out.size = core::Endpoint{*parsed, port}.to_sockaddr(out.storage);
    return out;
}

// `source` not empty: the socket is bound to that address (any port) first.
Fd connected_socket(std::string_view address, uint16_t port, int type, std::string_view source = {}) {
    SocketAddress target = make_address(address, port);
    Fd fd(::socket(target.storage.ss_family, type | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) fail_errno("socket");
    if (!source.empty()) {
        SocketAddress local = make_address(source, 0);
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local.storage), local.size) != 0)
            fail_errno("bind to " + std::string(source));
    }
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&target.storage), target.size) != 0)
        fail_errno("connect to " + std::string(address) + ":" + std::to_string(port));
    return fd;
}

bool wait_readable(int fd, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) fail_errno("poll");
    }
}

void send_all(int fd, const uint8_t* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno("send");
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
}

// ---- dig / kdig output ----

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string_view text) {
    size_t begin = text.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos) return {};
    size_t end = text.find_last_not_of(" \t\r");
    return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> split_blanks(std::string_view text) {
    std::vector<std::string> out;
    std::istringstream in{std::string(text)};
    std::string token;
    while (in >> token) out.push_back(token);
    return out;
}

// The number after `key` in `line` ("ANSWER: 3"), or 0.
unsigned count_after(std::string_view line, std::string_view key) {
    size_t at = line.find(key);
    if (at == std::string_view::npos) return 0;
    return static_cast<unsigned>(std::strtoul(std::string(line.substr(at + key.size())).c_str(), nullptr, 10));
}

// The text after `key` up to the next ',' or ';' ("status: NOERROR," → "NOERROR").
std::string field_after(std::string_view line, std::string_view key) {
    size_t at = line.find(key);
    if (at == std::string_view::npos) return {};
    std::string_view rest = line.substr(at + key.size());
    return trim(rest.substr(0, rest.find_first_of(",;")));
}

// NSID as printed: dig "64 6e 73 64 (\"dnsd\")", kdig "646E7364 \"dnsd\"": the hex is authoritative.
std::string decode_nsid(std::string_view text) {
    std::string hex;
    for (char c : text.substr(0, text.find_first_of("(\""))) {
        if (std::isxdigit(static_cast<unsigned char>(c))) hex.push_back(c);
    }
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

std::optional<Rr> parse_rr(std::string_view line) {
    std::istringstream in{std::string(line)};
    Rr rr;
    std::string ttl;
    if (!(in >> rr.owner >> ttl >> rr.cls >> rr.type)) return std::nullopt;
    if (ttl.empty() || !std::all_of(ttl.begin(), ttl.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return std::nullopt;
    rr.owner = lower(rr.owner);
    rr.ttl = static_cast<uint32_t>(std::stoul(ttl));
    rr.cls = upper(rr.cls);
    rr.type = upper(rr.type);
    std::string rest;
    std::getline(in, rest);
    for (const auto& token : split_blanks(rest)) rr.rdata += (rr.rdata.empty() ? "" : " ") + token;
    return rr;
}

// dig and kdig output alike: the first message printed.
DigResult parse_dig_output(std::string_view output) {
    DigResult result;
    std::vector<Rr>* section = nullptr;
    bool in_question = false;
    bool in_opt = false;
    std::istringstream lines{std::string(output)};
    for (std::string line; std::getline(lines, line);) {
        std::string text = trim(line);
        if (text.empty()) {
            section = nullptr;
            in_question = in_opt = false;
            continue;
        }
        if (text.find("->>HEADER<<-") != std::string::npos) {
            if (result.answered) break;  // only the first message
            result.answered = true;
            result.opcode = field_after(text, "opcode:");
            result.status = field_after(text, "status:");
            result.id = static_cast<uint16_t>(count_after(text, "id:"));
            continue;
        }
        std::string lowered = lower(text);
        if (lowered.starts_with(";; flags:")) {
            result.flags = split_blanks(lower(field_after(lowered, "flags:")));
            result.qdcount = count_after(text, "QUERY:");
            result.ancount = count_after(text, "ANSWER:");
            result.nscount = count_after(text, "AUTHORITY:");
            result.arcount = count_after(text, "ADDITIONAL:");
            continue;
        }
        if (text.find("PSEUDOSECTION:") != std::string::npos) {
            in_opt = true;
            result.edns = true;
            continue;
        }
        if (text.starts_with(";; QUESTION SECTION:")) {
            in_question = true;
            in_opt = false;
            continue;
        }
        if (text.starts_with(";; ANSWER SECTION:")) section = &result.answer;
        else if (text.starts_with(";; AUTHORITY SECTION:")) section = &result.authority;
        else if (text.starts_with(";; ADDITIONAL SECTION:")) section = &result.additional;
        if (text.starts_with(";; ") && text.ends_with("SECTION:")) {
            in_question = in_opt = false;
            continue;
        }
        if (in_opt) {
            std::string body = trim(text.substr(text.find_first_not_of(';')));
            std::string body_lower = lower(body);
            if (body_lower.starts_with("edns:") || body_lower.starts_with("version:")) {
                result.edns_version = count_after(body_lower, "version:");
                result.udp_payload = body_lower.find("udp size:") != std::string::npos ? count_after(body_lower, "udp size:")
                                                                                         : count_after(body_lower, "udp:");
            } else if (body.starts_with("NSID:")) {
                result.nsid = decode_nsid(body.substr(5));
            } else if (body.starts_with("CLIENT-SUBNET:")) {
                result.client_subnet = trim(body.substr(14));
            }
            continue;
        }
        if (in_question) {
            auto words = split_blanks(text.substr(text.find_first_not_of(';')));
            std::string joined;
            for (const auto& word : words) joined += (joined.empty() ? "" : " ") + word;
            result.question = joined;
            in_question = false;
            continue;
        }
        if (section && !text.starts_with(";")) {
            if (auto rr = parse_rr(text)) section->push_back(*rr);
        }
    }
    return result;
}

DigResult run_tool(std::vector<std::string> argv, uint16_t port, const std::vector<std::string>& args,
                   std::string_view server, std::vector<std::string> defaults) {
    argv.push_back("@" + std::string(server));
    argv.push_back("-p");
    argv.push_back(std::to_string(port));
    argv.insert(argv.end(), defaults.begin(), defaults.end());
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult run = run_command(argv, 20s);
    DigResult result = parse_dig_output(run.out);
    result.output = run.out + run.err;
    return result;
}

// ---- wire ----

void put16(Bytes& out, uint16_t value) {
    out.push_back(static_cast<uint8_t>(value >> 8));
    out.push_back(static_cast<uint8_t>(value));
}

// Bounds-checked reading of a message; any overrun makes `ok` false.
struct Reader {
    const Bytes& data;
    size_t at = 0;
    bool ok = true;

    uint8_t u8() {
        if (at + 1 > data.size()) return fail();
        return data[at++];
    }
    uint16_t u16() {
        uint16_t high = u8();
        return static_cast<uint16_t>((high << 8) | u8());
    }
    uint32_t u32() {
        uint32_t high = u16();
        return (high << 16) | u16();
    }
    void skip(size_t n) {
        if (at + n > data.size()) fail();
        else at += n;
    }
    // Skips a possibly compressed name.
    void skip_name() {
        for (unsigned labels = 0; ok && labels < 128; ++labels) {
            uint8_t length = u8();
            if (length == 0) return;
            if ((length & 0xC0) == 0xC0) {
                u8();
                return;
            }
            if (length > 63) fail();
            skip(length);
        }
        fail();
    }
    uint8_t fail() {
        ok = false;
        at = data.size();
        return 0;
    }
};

// ---- c-ares ----

struct AresQueryState {
    bool done = false;
    int status = -1;
    Bytes answer;
};

void on_ares_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    auto* state = static_cast<AresQueryState*>(arg);
    state->done = true;
    state->status = status;
    if (abuf && alen > 0) state->answer.assign(abuf, abuf + alen);
}

// ares_library_init / ares_library_cleanup and the channel, as one owner.
class AresChannel {
public:
    explicit AresChannel(int timeout_ms) {
        if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) throw std::runtime_error("ares_library_init failed");
        ares_options options{};
        options.timeout = timeout_ms;
        options.tries = 1;
        options.flags = ARES_FLAG_NOCHECKRESP;
        int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
        if (int rc = ares_init_options(&channel_, &options, mask); rc != ARES_SUCCESS) {
            ares_library_cleanup();
            throw std::runtime_error(std::string("ares_init_options: ") + ares_strerror(rc));
        }
    }
    ~AresChannel() {
        ares_destroy(channel_);
        ares_library_cleanup();
    }
    AresChannel(const AresChannel&) = delete;
    AresChannel& operator=(const AresChannel&) = delete;
    ares_channel get() const { return channel_; }

private:
    ares_channel channel_ = nullptr;
};

}  // namespace

std::filesystem::path data_dir() { return std::filesystem::path(DNSD_SOURCE_DIR) / "tests" / "data" / "e2e"; }

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// ---- TempDir ----

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/dnsd-e2e-XXXXXX";
    if (!::mkdtemp(pattern.data())) fail_errno("mkdtemp " + pattern);
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::write(const std::filesystem::path& relative, std::string_view content) const {
    auto full = path_ / relative;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) throw std::runtime_error("cannot write " + full.string());
    return full;
}

// ---- run_command ----

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) fail_errno("pipe");
    Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) fail_errno("pipe");
    Fd err_read(err_pipe[0]), err_write(err_pipe[1]);

    FileActions actions;
    posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(actions.get(), out_write.get(), 1);
    posix_spawn_file_actions_adddup2(actions.get(), err_write.get(), 2);
    auto args = c_argv(argv);
    pid_t pid = -1;
    if (int rc = posix_spawnp(&pid, args[0], actions.get(), nullptr, args.data(), environ); rc != 0)
        throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
    out_write.reset();
    err_write.reset();

    CommandResult result;
    auto deadline = Clock::now() + timeout;
    std::string* sinks[2] = {&result.out, &result.err};
    Fd* sources[2] = {&out_read, &err_read};
    while (out_read.get() >= 0 || err_read.get() >= 0) {
        pollfd fds[2];
        nfds_t count = 0;
        int which[2];
        for (int i = 0; i < 2; ++i) {
            if (sources[i]->get() < 0) continue;
            fds[count] = {sources[i]->get(), POLLIN, 0};
            which[count++] = i;
        }
        int n = ::poll(fds, count, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        for (nfds_t i = 0; i < count; ++i) {
            if (!fds[i].revents) continue;
            char buffer[4096];
            ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got > 0) sinks[which[i]]->append(buffer, static_cast<size_t>(got));
            else if (got == 0 || errno != EINTR) sources[which[i]]->reset();
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = decode_status(status);
    return result;
}

// ---- ports and interfaces ----

uint16_t free_port(const std::string& address) {
    for (int attempt = 0; attempt < 20; ++attempt) {
        SocketAddress any = make_address(address, 0);
        Fd tcp(::socket(any.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (::bind(tcp.get(), reinterpret_cast<sockaddr*>(&any.storage), any.size) != 0 ||
            ::getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&any.storage), &any.size) != 0)
            fail_errno("cannot bind " + address);
        Fd udp(::socket(any.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (::bind(udp.get(), reinterpret_cast<sockaddr*>(&any.storage), any.size) == 0)
            return ntohs(any.storage.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(any.storage).sin_port
                                                          : reinterpret_cast<sockaddr_in6&>(any.storage).sin6_port);
    }
    throw std::runtime_error("no free port on " + address);
}

bool only_loopback() {
    struct if_nameindex* interfaces = if_nameindex();
    if (interfaces == nullptr) return false;
    bool only_lo = true;
    for (const struct if_nameindex* i = interfaces; i->if_index != 0; ++i)
        if (std::string_view(i->if_name) != "lo") only_lo = false;
    if_freenameindex(interfaces);
    return only_lo;
}

// ---- Process ----

Process::Process(const std::vector<std::string>& argv, const std::filesystem::path& log_path,
                 const std::filesystem::path& cwd, const std::vector<int>& descriptors) {
    FileActions actions;
    posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(actions.get(), 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(actions.get(), 1, 2);
    for (size_t i = 0; i < descriptors.size(); ++i) {
        const int target = 3 + static_cast<int>(i);
        if (descriptors[i] <= 2 + static_cast<int>(descriptors.size()))
            throw std::runtime_error("descriptor " + std::to_string(descriptors[i]) + " would be overwritten");
        posix_spawn_file_actions_adddup2(actions.get(), descriptors[i], target);
    }
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(actions.get(), cwd.c_str());
    auto args = c_argv(argv);
    if (int rc = posix_spawnp(&pid_, args[0], actions.get(), nullptr, args.data(), environ); rc != 0)
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

Process::~Process() { stop(); }

bool Process::exited() {
    if (pid_ < 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    status_ = decode_status(status);
    pid_ = -1;
    return true;
}

int Process::stop(std::chrono::milliseconds grace) {
    if (exited()) return status_;
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + grace;
    while (!exited()) {
        if (Clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            status_ = decode_status(status);
            pid_ = -1;
            break;
        }
        pause_briefly();
    }
    return status_;
}

// ---- Dnsd ----

namespace {

void hand_to(const std::filesystem::path& path, uid_t user) {
    if (::chown(path.c_str(), user, user) != 0) fail_errno("chown " + path.string());
}

}  // namespace

Dnsd::Dnsd(DnsdOptions options) : log_path_(dir_.path() / "stderr.log") {
    std::vector<std::string> argv;
    const std::filesystem::path state_dir = options.state_dir.value_or(dir_.path() / "state");
    if (options.user) {
        const std::string id = std::to_string(*options.user);
        argv = {"setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups"};
        hand_to(dir_.path(), *options.user);
        std::filesystem::create_directories(state_dir);
        hand_to(state_dir, *options.user);
    }
    argv.push_back(DNSD_BINARY);
    if (options.config_json) {
        argv.push_back("--config");
        argv.push_back(dir_.write("dnsd.json", *options.config_json).string());
    }
    for (const auto& listen : options.listen) {
        argv.push_back("--listen");
        argv.push_back(listen);
    }
    if (options.http) {
        argv.push_back("--http");
        argv.push_back(*options.http);
    }
    argv.push_back("--zones");
    argv.push_back(options.zones_dir.string());
    argv.push_back("--state-dir");
    argv.push_back(state_dir.string());
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    // Relative defaults (the shipped geoip/) resolve as for a user in the source tree.
    process_ = std::make_unique<Process>(argv, log_path_, DNSD_SOURCE_DIR);

    // One listener line per socket and then `ready`; poll the log until they are there.
    const size_t expected = options.listen.size() * 2 + (options.http ? 1 : 0);
    auto deadline = Clock::now() + options.start_timeout;
    for (;;) {
        listeners_.clear();
        std::istringstream lines(log());
        bool ready = false;
        for (std::string line; std::getline(lines, line);) {
            size_t at = line.find("listening on ");
            if (at != std::string::npos) {
                auto words = split_blanks(line.substr(at + 13));
                if (words.size() < 2) continue;
                const std::string& endpoint = words[1];
                size_t colon = endpoint.rfind(':');
                if (colon == std::string::npos) continue;
                std::string address = endpoint.substr(0, colon);
                if (!address.empty() && address.front() == '[') address = address.substr(1, address.size() - 2);
                listeners_.push_back({words[0], address, static_cast<uint16_t>(std::stoul(endpoint.substr(colon + 1)))});
            } else {
                // The word, not a part of one ("already in use").
                for (const auto& word : split_blanks(line)) ready = ready || word.starts_with("ready");
            }
        }
        if (ready && listeners_.size() >= expected) return;
        if (process_->exited())
            throw std::runtime_error("dnsd exited with status " + std::to_string(process_->status()) + " before ready:\n" + log());
        if (Clock::now() > deadline) {
            process_->stop();
            throw std::runtime_error("dnsd not ready in time:\n" + log());
        }
        pause_briefly();
    }
}

uint16_t Dnsd::port(std::string_view address, std::string_view transport) const {
    for (const auto& listener : listeners_)
        if (listener.address == address && listener.transport == transport) return listener.port;
    throw std::runtime_error("dnsd has no " + std::string(transport) + " listener on " + std::string(address) + ":\n" + log());
}

uint16_t Dnsd::http_port() const {
    for (const auto& listener : listeners_)
        if (listener.transport == "http") return listener.port;
    throw std::runtime_error("dnsd has no http listener:\n" + log());
}

std::string Dnsd::log() const { return read_text(log_path_); }

Dnsd start_one_worker(std::optional<std::string> config_json) {
    DnsdOptions options;
    options.config_json = std::move(config_json);
    options.extra_args = {"--threads", "1"};
    return Dnsd(options);
}

// ---- NatsServer ----

namespace {

// Debian installs nats-server in /usr/sbin, which a user's PATH may lack.
std::string nats_server_program() {
    const std::filesystem::path debian = "/usr/sbin/nats-server";
    return std::filesystem::exists(debian) ? debian.string() : "nats-server";
}

// True when a client connecting to 127.0.0.1:PORT gets the server's INFO line.
bool nats_accepts(uint16_t port) {
    SocketAddress target = make_address("127.0.0.1", port);
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&target.storage), target.size) != 0) return false;
    char buffer[5] = {};
    size_t got = 0;
    const auto deadline = Clock::now() + 2s;
    while (got < sizeof buffer && wait_readable(fd.get(), deadline)) {
        const ssize_t n = ::recv(fd.get(), buffer + got, sizeof buffer - got, 0);
        if (n <= 0) return false;
        got += static_cast<size_t>(n);
    }
    return std::string_view(buffer, got) == "INFO ";
}

}  // namespace

NatsServer::NatsServer() {
    // The port is picked before the server binds it: another process may take
    // it first, and then the next one is tried.
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port("127.0.0.1");
        if (try_start()) return;
    }
    throw std::runtime_error("nats-server did not start:\n" + log());
}

std::string NatsServer::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

std::string NatsServer::log() const { return read_text(dir_.path() / "nats-server.log"); }

void NatsServer::start() {
    if (running()) return;
    if (!try_start()) throw std::runtime_error("nats-server exited on restart:\n" + log());
}

bool NatsServer::try_start() {
    const std::string store = (dir_.path() / "store").string();
    process_ = std::make_unique<Process>(
        std::vector<std::string>{nats_server_program(), "-js", "-sd", store, "-a", "127.0.0.1", "-p", std::to_string(port_)},
        dir_.path() / "nats-server.log");
    const auto deadline = Clock::now() + 20s;
    while (!nats_accepts(port_)) {
        if (process_->exited()) {
            process_.reset();
            return false;
        }
        if (Clock::now() > deadline) {
            process_.reset();
            throw std::runtime_error("nats-server does not accept connections on " + url() + ":\n" + log());
        }
        pause_briefly();
    }
    return true;
}

void NatsServer::stop() { process_.reset(); }

void NatsServer::kill() {
    if (!running()) return;
    ::kill(process_->pid(), SIGKILL);
    process_.reset();  // reaps it
}

// ---- dig ----

std::string Rr::text() const {
    return owner + " " + std::to_string(ttl) + " " + cls + " " + type + (rdata.empty() ? "" : " " + rdata);
}

Texts texts(const std::vector<Rr>& rrs) {
    Texts out;
    for (const auto& rr : rrs) out.insert(rr.text());
    return out;
}

bool DigResult::has_flag(std::string_view flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::vector<Rr> DigResult::records(std::string_view section, std::string_view type) const {
    const std::vector<Rr>& rrs = section == "answer" ? answer : section == "authority" ? authority : additional;
    std::vector<Rr> out;
    for (const auto& rr : rrs)
        if (rr.type == type) out.push_back(rr);
    return out;
}

DigResult dig(uint16_t port, const std::vector<std::string>& args, std::string_view server) {
    return run_tool({"dig"}, port, args, server, {"+tries=1", "+time=2"});
}

DigResult kdig(uint16_t port, const std::vector<std::string>& args, std::string_view server) {
    return run_tool({"kdig"}, port, args, server, {"+retry=0", "+time=2"});
}

// ---- wire ----

Bytes make_query(uint16_t id, std::string_view name, uint16_t qtype, uint16_t flags) {
    Bytes out;
    put16(out, id);
    put16(out, flags);
    put16(out, 1);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    std::string_view rest = name;
    if (rest.ends_with('.')) rest.remove_suffix(1);
    while (!rest.empty()) {
        size_t dot = rest.find('.');
        std::string_view label = rest.substr(0, dot);
        out.push_back(static_cast<uint8_t>(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    }
    out.push_back(0);
    put16(out, qtype);
    put16(out, 1);
    return out;
}

void add_opt(Bytes& message, uint16_t udp_payload, uint8_t version, const Bytes& options) {
    message.push_back(0);  // root owner
    put16(message, rrtype::OPT);
    put16(message, udp_payload);
    message.push_back(0);  // extended RCODE
    message.push_back(version);
    put16(message, 0);  // DO and Z
    put16(message, static_cast<uint16_t>(options.size()));
    message.insert(message.end(), options.begin(), options.end());
    uint16_t arcount = static_cast<uint16_t>((message[10] << 8 | message[11]) + 1);
    message[10] = static_cast<uint8_t>(arcount >> 8);
    message[11] = static_cast<uint8_t>(arcount);
}

Bytes edns_option(uint16_t code, const Bytes& data) {
    Bytes out;
    put16(out, code);
    put16(out, static_cast<uint16_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::optional<Response> parse_response(const Bytes& message) {
    Reader in{message};
    Response response;
    Header& h = response.header;
    h.id = in.u16();
    h.flags = in.u16();
    h.qdcount = in.u16();
    h.ancount = in.u16();
    h.nscount = in.u16();
    h.arcount = in.u16();
    for (unsigned i = 0; i < h.qdcount && in.ok; ++i) {
        in.skip_name();
        in.skip(4);
    }
    unsigned total = h.ancount + h.nscount + h.arcount;
    for (unsigned i = 0; i < total && in.ok; ++i) {
        in.skip_name();
        uint16_t type = in.u16();
        uint16_t cls = in.u16();
        uint32_t ttl = in.u32();
        uint16_t length = in.u16();
        if (!in.ok || in.at + length > message.size()) return std::nullopt;
        const uint8_t* rdata = message.data() + in.at;
        if (i < h.ancount) {
            response.answer_types.push_back(type);
            char text[INET6_ADDRSTRLEN] = {};
            if (type == rrtype::A && length == 4) response.answer_addresses.push_back(inet_ntop(AF_INET, rdata, text, sizeof text));
            if (type == rrtype::AAAA && length == 16) response.answer_addresses.push_back(inet_ntop(AF_INET6, rdata, text, sizeof text));
        }
        if (type == rrtype::OPT) {
            ++response.opt_count;
            response.opt = Opt{cls, static_cast<uint8_t>(ttl >> 24), static_cast<uint8_t>(ttl >> 16), Bytes(rdata, rdata + length)};
        }
        in.skip(length);
    }
    if (!in.ok) return std::nullopt;
    return response;
}

// ---- UdpClient / TcpClient ----

UdpClient::UdpClient(std::string_view address, uint16_t port, std::string_view source) {
    fd_ = connected_socket(address, port, SOCK_DGRAM, source).release();
}

UdpClient::~UdpClient() {
    if (fd_ >= 0) ::close(fd_);
}

void UdpClient::send(const Bytes& datagram) {
    if (::send(fd_, datagram.data(), datagram.size(), 0) != static_cast<ssize_t>(datagram.size())) fail_errno("send");
}

std::optional<Bytes> UdpClient::receive(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    if (!wait_readable(fd_, deadline)) return std::nullopt;
    Bytes buffer(65535);
    ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;  // e.g. ECONNREFUSED from an ICMP error
    buffer.resize(static_cast<size_t>(n));
    return buffer;
}

TcpClient::TcpClient(std::string_view address, uint16_t port, std::string_view source) {
    fd_ = connected_socket(address, port, SOCK_STREAM, source).release();
}

TcpClient::~TcpClient() {
    if (fd_ >= 0) ::close(fd_);
}

void TcpClient::send_raw(const Bytes& bytes) { send_all(fd_, bytes.data(), bytes.size()); }

void TcpClient::send_message(const Bytes& message) {
    Bytes framed;
    put16(framed, static_cast<uint16_t>(message.size()));
    framed.insert(framed.end(), message.begin(), message.end());
    send_raw(framed);
}

bool TcpClient::read_exact(uint8_t* out, size_t size, Clock::time_point deadline) {
    while (size > 0) {
        if (!wait_readable(fd_, deadline)) return false;
        ssize_t n = ::recv(fd_, out, size, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        out += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

std::optional<Bytes> TcpClient::receive_message(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    uint8_t prefix[2];
    if (!read_exact(prefix, 2, deadline)) return std::nullopt;
    Bytes message(static_cast<size_t>(prefix[0] << 8 | prefix[1]));
    if (!read_exact(message.data(), message.size(), deadline)) return std::nullopt;
    return message;
}

bool TcpClient::closed_by_peer(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
        if (!wait_readable(fd_, deadline)) return false;
        uint8_t buffer[512];
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n == 0 || (n < 0 && errno != EINTR)) return true;
    }
}

std::optional<Bytes> udp_exchange(uint16_t port, const Bytes& query, std::string_view address,
                                  std::chrono::milliseconds timeout) {
    UdpClient client(address, port);
    client.send(query);
    return client.receive(timeout);
}

Response udp_response(uint16_t port, const Bytes& query) {
    auto bytes = udp_exchange(port, query);
    if (!bytes) throw std::runtime_error("no UDP response from port " + std::to_string(port));
    auto response = parse_response(*bytes);
    if (!response) throw std::runtime_error("malformed UDP response from port " + std::to_string(port));
    return *response;
}

// ---- c-ares ----

AresResult ares_lookup(uint16_t port, std::string_view name, uint16_t qtype, std::chrono::milliseconds timeout) {
    AresChannel channel(static_cast<int>(timeout.count()));
    ares_addr_port_node server{};
    server.family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &server.addr.addr4);
    server.udp_port = port;
    server.tcp_port = port;
    if (int rc = ares_set_servers_ports(channel.get(), &server); rc != ARES_SUCCESS)
        throw std::runtime_error(std::string("ares_set_servers_ports: ") + ares_strerror(rc));

    AresQueryState state;
    ares_query(channel.get(), std::string(name).c_str(), ns_c_in, qtype, on_ares_answer, &state);
    // c-ares gives up on its own after `timeout`; the deadline only bounds the loop.
    auto deadline = Clock::now() + timeout + 2s;
    while (!state.done && Clock::now() < deadline) {
        ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
        int bits = ares_getsock(channel.get(), sockets, ARES_GETSOCK_MAXNUM);
        std::vector<pollfd> fds;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
            short events = 0;
            if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
            if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
            if (events) fds.push_back({sockets[i], events, 0});
        }
        timeval max_wait{0, 100 * 1000}, wait{};
        timeval* next = ares_timeout(channel.get(), &max_wait, &wait);
        int wait_ms = static_cast<int>(next->tv_sec * 1000 + next->tv_usec / 1000);
        int n = ::poll(fds.data(), fds.size(), std::min(wait_ms, remaining_ms(deadline)));
        if (n < 0 && errno != EINTR) fail_errno("poll");
        if (n <= 0) {
            ares_process_fd(channel.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (const auto& fd : fds) {
            if (!fd.revents) continue;
            ares_socket_t readable = fd.revents & (POLLIN | POLLERR | POLLHUP) ? fd.fd : ARES_SOCKET_BAD;
            ares_socket_t writable = fd.revents & POLLOUT ? fd.fd : ARES_SOCKET_BAD;
            ares_process_fd(channel.get(), readable, writable);
        }
    }

    AresResult result;
    result.status = state.done ? state.status : ARES_ETIMEOUT;
    result.answer = state.answer;
    if (result.status != ARES_SUCCESS || result.answer.empty()) return result;
    char text[INET6_ADDRSTRLEN] = {};
    if (qtype == rrtype::A) {
        ares_addrttl addresses[32];
        int count = 32;
        result.status = ares_parse_a_reply(result.answer.data(), static_cast<int>(result.answer.size()), nullptr, addresses, &count);
        for (int i = 0; result.status == ARES_SUCCESS && i < count; ++i)
            result.addresses.push_back(inet_ntop(AF_INET, &addresses[i].ipaddr, text, sizeof text));
    } else if (qtype == rrtype::AAAA) {
        ares_addr6ttl addresses[32];
        int count = 32;
        result.status = ares_parse_aaaa_reply(result.answer.data(), static_cast<int>(result.answer.size()), nullptr, addresses, &count);
        for (int i = 0; result.status == ARES_SUCCESS && i < count; ++i)
            result.addresses.push_back(inet_ntop(AF_INET6, &addresses[i].ip6addr, text, sizeof text));
    }
    return result;
}

}  // namespace dnsd::e2e
