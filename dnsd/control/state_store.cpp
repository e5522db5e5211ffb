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
constexpr std::string_view registration_file_keys[] = {"version", "registrations"};
constexpr std::string_view registration_keys[] = {"zone", "pool", "address", "region", "weight", "port", "expires_at"};
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

// The list `list_key` of a state file {"version": 1, "<list_key>": [...]},
// or null when the file is not that.
const json::Value* state_list(const json::Value& root, json::Fields& fields, std::span<const std::string_view> keys,
                              std::string_view list_key, std::string_view what) {
    if (!fields.is_object(root, what)) return nullptr;
    fields.known_keys(root, keys, "in " + std::string(what));
    const json::Value* version = fields.required(root, "version", what, "1");
    if (!version) return nullptr;
    const auto number = fields.integer(*version, "\"version\"", 1, INT64_MAX);
    if (!number) return nullptr;
    if (*number != format_version) {
        fields.error(version->position, "version " + std::to_string(*number) +
                                            " was written by a newer dnsd; this one reads version 1");
        return nullptr;
    }
    const json::Value* list = root.find(list_key);
    const std::string name = json::quote(list_key);
    if (list == nullptr || !fields.expect(*list, json::Kind::array, name, "a list [ ... ]")) return nullptr;
    return list;
}

std::vector<health::Override> read_overrides(const json::Value& root, json::Fields& fields) {
    std::vector<health::Override> out;
    if (const json::Value* list = state_list(root, fields, file_keys, "overrides", "the overrides file"))
        for (const json::Value& item : list->items) read_override(item, fields, out);
    return out;
}

void read_registration(const json::Value& item, json::Fields& fields, std::vector<Registration>& out) {
    if (!fields.is_object(item, "a registration")) return;
    fields.known_keys(item, registration_keys, "in a registration");
    auto text = [&](std::string_view key, std::string_view example) -> const std::string* {
        const json::Value* value = fields.required(item, key, "a registration", example);
        return value ? fields.string(*value, json::quote(key)) : nullptr;
    };
    const std::string* zone_name = text("zone", "\"svc.example.com\"");
    const std::string* pool = text("pool", "\"web\"");
    const std::string* address_text = text("address", "\"192.0.2.10\"");
    const json::Value* expires = fields.required(item, "expires_at", "a registration", "1767225600");
    const auto expires_at = expires ? fields.integer(*expires, "\"expires_at\"", 0, INT64_MAX / 1000) : std::nullopt;
    Registration entry;
    if (const json::Value* region = item.find("region"))
        if (const std::string* name = fields.string(*region, "\"region\"")) entry.region = *name;
    if (const json::Value* weight = item.find("weight"))
        entry.weight = static_cast<uint32_t>(fields.integer(*weight, "\"weight\"", 0, json::max_int31).value_or(1));
    if (const json::Value* port = item.find("port"))
        entry.port = static_cast<uint16_t>(fields.integer(*port, "\"port\"", 0, 65535).value_or(0));
    if (!zone_name || !pool || !address_text || !expires_at) return;
    const auto address = core::Address::parse(*address_text);
    if (!address) return fields.error(item.find("address")->position, json::quote(*address_text) + " is not an IP address");
    entry.zone = *zone_name;
    entry.pool = *pool;
    entry.address = *address;
    entry.expires_at = SystemClock::time_point(std::chrono::seconds(*expires_at));
    for (const auto& other : out)
        if (other.zone == entry.zone && other.pool == entry.pool && other.address == entry.address)
            return fields.error(item.position, "the registration of " + *address_text + " in " + *zone_name + "/" +
                                                   *pool + " is listed twice; remove one");
    out.push_back(std::move(entry));
}

std::vector<Registration> read_registrations(const json::Value& root, json::Fields& fields) {
    std::vector<Registration> out;
    if (const json::Value* list =
            state_list(root, fields, registration_file_keys, "registrations", "the registrations file"))
        for (const json::Value& item : list->items) read_registration(item, fields, out);
    return out;
}

// What `parse` finds in the state file at `path`: nothing when there is no
// such file; when it cannot be read or is not valid, nothing, and `warning`
// names the file, the problem and `consequence`.
template <class Parse>
auto load_state_file(const std::string& path, Parse parse, std::string_view consequence, std::string& warning) {
    std::string error;
    std::optional<std::string> text = read_file(path, error);
    core::Diagnostics found;
    decltype(parse(std::string(), found)) entries;
    if (!text) {
        if (error.empty()) return entries;  // none kept yet
        found.push_back({path, 0, 0, "cannot read: " + error});
    } else {
        entries = parse(std::move(*text), found);
    }
    if (found.empty()) return entries;
    warning = found.front().to_string();
    if (found.size() > 1) warning += " (and " + std::to_string(found.size() - 1) + " more problems)";
    warning += consequence;
    return decltype(entries){};
}

template <class Read>
auto parse_state(std::string text, const std::string& file, core::Diagnostics& diagnostics, Read read) {
    const json::Text json_text(std::move(text), file);
    const auto root = json::parse(json_text, diagnostics);
    json::Fields fields(json_text, diagnostics);
    return root ? read(*root, fields) : decltype(read(*root, fields)){};
}

}  // namespace

std::vector<health::Override> parse_overrides(std::string text, const std::string& file,
                                             core::Diagnostics& diagnostics) {
    return parse_state(std::move(text), file, diagnostics, read_overrides);
}

std::vector<Registration> parse_registrations(std::string text, const std::string& file,
                                              core::Diagnostics& diagnostics) {
    return parse_state(std::move(text), file, diagnostics, read_registrations);
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
    return load_state_file(
        path, [&](std::string text, core::Diagnostics& found) { return parse_overrides(std::move(text), path, found); },
        "; starting without the overrides kept there", warning);
}

std::vector<Registration> StateStore::load_registrations(std::string& warning) const {
    const std::string path = registrations_path().string();
    return load_state_file(
        path,
        [&](std::string text, core::Diagnostics& found) { return parse_registrations(std::move(text), path, found); },
        "; starting without the registrations kept there", warning);
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

bool StateStore::save_registrations(std::span<const Registration> registrations, std::string& error) const {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& r : registrations) {
        nlohmann::ordered_json entry{{"zone", r.zone}, {"pool", r.pool}, {"address", r.address.to_string()}};
        if (!r.region.empty()) entry["region"] = r.region;
        entry["weight"] = r.weight;
        if (r.port != 0) entry["port"] = r.port;
        entry["expires_at"] = std::chrono::ceil<std::chrono::seconds>(r.expires_at.time_since_epoch()).count();
        list.push_back(std::move(entry));
    }
    const nlohmann::ordered_json file{{"version", format_version}, {"registrations", std::move(list)}};
    return core::write_file_atomically(registrations_path(),
                                       file.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
                                           "\n",
                                       error);
}

}  // namespace dnsd::control
