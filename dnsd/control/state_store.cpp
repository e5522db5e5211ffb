#include "dnsd/control/state_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "dnsd/core/atomic_file.hpp"
#include "dnsd/json/fields.hpp"
#include "dnsd/json/json.hpp"

namespace dnsd::control {

namespace {

// A file of another version is not guessed at: a newer dnsd may have changed
// what its fields mean.
constexpr int64_t format_version = 1;
constexpr std::string_view file_keys[] = {"version", "overrides"};
constexpr std::string_view override_keys[] = {"zone", "pool", "address", "state"};
constexpr std::string_view override_states[] = {"up", "down"};

// The whole file, or nullopt and why in `error` (an absent file has an empty `error`).
std::optional<std::string> read_file(const std::string& path, std::string& error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) error = std::strerror(errno);
        return std::nullopt;
    }
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) error = std::strerror(errno);
        if (n <= 0) break;
        text.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    if (!error.empty()) return std::nullopt;
    return text;
}

void read_override(const json::Value& item, json::Fields& fields, std::vector<health::Override>& out) {
    if (!fields.is_object(item, "an override")) return;
    fields.known_keys(item, override_keys, "in an override");
    auto text = [&](std::string_view key, std::string_view example) -> const std::string* {
        const json::Value* value = fields.required(item, key, "an override", example);
        return value ? fields.string(*value, json::quote(key)) : nullptr;
    };
    const std::string* zone_name = text("zone", "\"svc.example.com\"");
    const std::string* pool = text("pool", "\"web\"");
    const std::string* address_text = text("address", "\"192.0.2.10\"");
    const std::string* state_text = text("state", "\"down\"");
    if (!zone_name || !pool || !address_text || !state_text) return;
    const auto address = core::Address::parse(*address_text);
    if (!address) return fields.error(item.find("address")->position, json::quote(*address_text) + " is not an IP address");
    if (!json::index_of(override_states, *state_text))
        return fields.error(item.find("state")->position, "an override's state is \"up\" or \"down\", not " +
                                                              json::quote(*state_text));
    health::Override entry{*zone_name, *pool, *address, *zone::member_state(*state_text)};
    for (const auto& other : out)
        if (other.zone == entry.zone && other.pool == entry.pool && other.address == entry.address)
            return fields.error(item.position, "the override of " + *address_text + " in " + *zone_name + "/" + *pool +
                                                   " is listed twice; remove one");
    out.push_back(std::move(entry));
}

std::vector<health::Override> read_overrides(const json::Value& root, json::Fields& fields) {
    std::vector<health::Override> out;
    if (!fields.is_object(root, "the overrides file")) return out;
    fields.known_keys(root, file_keys, "in the overrides file");
    const json::Value* version = fields.required(root, "version", "the overrides file", "1");
    if (!version) return out;
    const auto number = fields.integer(*version, "\"version\"", 1, INT64_MAX);
    if (!number) return out;
    if (*number != format_version) {
        fields.error(version->position, "version " + std::to_string(*number) +
                                            " was written by a newer dnsd; this one reads version 1");
        return out;
    }
    const json::Value* list = root.find("overrides");
    if (list == nullptr || !fields.expect(*list, json::Kind::array, "\"overrides\"", "a list [ ... ]")) return out;
    for (const json::Value& item : list->items) read_override(item, fields, out);
    return out;
}

}  // namespace

std::vector<health::Override> parse_overrides(std::string text, const std::string& file,
                                             core::Diagnostics& diagnostics) {
    const json::Text json_text(std::move(text), file);
    const auto root = json::parse(json_text, diagnostics);
    if (!root) return {};
    json::Fields fields(json_text, diagnostics);
    return read_overrides(*root, fields);
}

bool StateStore::prepare(std::string& warning) const {
    constexpr std::string_view consequence = "; overrides set from now on will not survive a restart";
    std::error_code error;
    std::filesystem::create_directories(dir_, error);
    if (error) {
        warning = dir_.string() + ": cannot create the state directory: " + error.message() + std::string(consequence);
        return false;
    }
    if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
        warning = dir_.string() + ": cannot write in the state directory: " + std::strerror(errno) +
                  std::string(consequence);
        return false;
    }
    return true;
}

std::vector<health::Override> StateStore::load_overrides(std::string& warning) const {
    const std::string path = overrides_path().string();
    std::string error;
    std::optional<std::string> text = read_file(path, error);
    core::Diagnostics found;
    std::vector<health::Override> overrides;
    if (!text) {
        if (error.empty()) return {};  // none kept yet
        found.push_back({path, 0, 0, "cannot read: " + error});
    } else {
        overrides = parse_overrides(std::move(*text), path, found);
    }
    if (found.empty()) return overrides;
    warning = found.front().to_string();
    if (found.size() > 1) warning += " (and " + std::to_string(found.size() - 1) + " more problems)";
    warning += "; starting without the overrides kept there";
    return {};
}

bool StateStore::save_overrides(std::span<const health::Override> overrides, std::string& error) const {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& o : overrides)
        list.push_back({{"zone", o.zone},
                        {"pool", o.pool},
                        {"address", o.address.to_string()},
                        {"state", zone::to_string(o.state)}});
    const nlohmann::ordered_json file{{"version", format_version}, {"overrides", std::move(list)}};
    return core::write_file_atomically(overrides_path(),
                                       file.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
                                           "\n",
                                       error);
}


void StateStore::load_latency(latency::Measurements& measurements, std::span<const std::string_view> regions,
                              std::string& warning) const {
    const std::string path = latency_path().string();
    std::string error;
    const std::optional<std::string> text = read_file(path, error);
    if (!text) {
        if (!error.empty()) warning = path + ": cannot read: " + error;
    } else {
        measurements.restore(*text, path, regions, warning);
    }
    if (!warning.empty()) warning += "; starting without the latency measurements kept there";
}

bool StateStore::save_latency(const latency::Measurements& measurements, std::span<const std::string_view> regions,
                              std::string& error) const {
    return core::write_file_atomically(latency_path(), measurements.save(regions), error);
}

}  // namespace dnsd::control
