// A pool's "check" object → Check (SPEC §5): which keys apply to which
// check type, timings that make sense, and the expected HTTP statuses.
#include <algorithm>

#include "dnsd/zone/name.hpp"
#include "dnsd/zone/source.hpp"

namespace dnsd::zone {

namespace {


// Which check types each check key applies to, as a bit per Check::Type.
struct CheckKey {
    std::string_view name;
    unsigned types;
};
constexpr unsigned bit(Check::Type t) { return 1u << static_cast<unsigned>(t); }
constexpr unsigned probing = bit(Check::Type::tcp) | bit(Check::Type::http) |
                             bit(Check::Type::https) | bit(Check::Type::dns);
constexpr unsigned web = bit(Check::Type::http) | bit(Check::Type::https);
constexpr CheckKey check_keys[] = {
    {"type", probing | bit(Check::Type::none)},
    {"port", probing},
    {"interval", probing},
    {"timeout", probing},
    {"rise", probing},
    {"fall", probing},
    {"path", web},
    {"host", web},
    {"expect_status", web},
    {"expect_body", web},
    {"verify_tls", bit(Check::Type::https)},
    {"query", bit(Check::Type::dns)},
    {"query_type", bit(Check::Type::dns)},
};

constexpr uint32_t max_check_seconds = 86400;
constexpr int64_t max_rise_fall = 1000;

std::string seconds_text(uint32_t ms) {
    std::string s = std::to_string(ms / 1000);
    if (ms % 1000 != 0) {
        std::string fraction = std::to_string(1000 + ms % 1000).substr(1);
        fraction.erase(fraction.find_last_not_of('0') + 1);
        s += "." + fraction;
    }
    return s + " s";
}

class CheckReader {
public:
    CheckReader(std::string_view apex, Fields& fields) : apex_(apex), fields_(fields) {}

    void read(const json::Value& value, Check& check) {
        if (!fields_.is_object(value, "\"check\"")) return;
        const json::Value* type = fields_.required(value, "type", "\"check\"", "\"tcp\" (or none, http, https, dns)");
        const std::string* type_text = type ? fields_.string(*type, "\"type\"") : nullptr;
        if (!type_text) return;
        auto type_index = index_of(Check::type_names, *type_text);
        if (!type_index) {
            fields_.error(type->position, "unknown check type " + quote(*type_text) + suggest(*type_text, Check::type_names));
            return;
        }
        check.type = static_cast<Check::Type>(*type_index);

        std::vector<std::string_view> known;
        for (const auto& key : check_keys) known.push_back(key.name);
        for (const auto& member : value.members) {
            auto key = std::find_if(std::begin(check_keys), std::end(check_keys),
                                    [&](const CheckKey& k) { return k.name == member.key; });
            if (key == std::end(check_keys))
                fields_.error(member.key_position, "unknown key " + quote(member.key) + " in \"check\"" +
                                                       suggest(member.key, known));
            else if (!(key->types & bit(check.type)))
                fields_.error(member.key_position, quote(member.key) + " does not apply to a " +
                                                       quote(*type_text) + " check; remove it");
        }

        if (const json::Value* port = value.find("port"))
            if (auto p = fields_.integer(*port, "\"port\"", 1, 65535)) check.port = static_cast<uint16_t>(*p);
        const json::Value* interval = value.find("interval");
        const json::Value* timeout = value.find("timeout");
        if (interval)
            if (auto ms = fields_.positive_seconds(*interval, "\"interval\"", max_check_seconds)) check.interval_ms = *ms;
        if (timeout)
            if (auto ms = fields_.positive_seconds(*timeout, "\"timeout\"", max_check_seconds)) check.timeout_ms = *ms;
        if (check.timeout_ms >= check.interval_ms)
            fields_.error((timeout ? timeout : interval ? interval : &value)->position,
                          "\"timeout\" (" + seconds_text(check.timeout_ms) + ") must be shorter than \"interval\" (" +
                              seconds_text(check.interval_ms) + "); lower \"timeout\" or raise \"interval\"");
        if (const json::Value* rise = value.find("rise"))
            if (auto n = fields_.integer(*rise, "\"rise\"", 1, max_rise_fall)) check.rise = static_cast<uint32_t>(*n);
        if (const json::Value* fall = value.find("fall"))
            if (auto n = fields_.integer(*fall, "\"fall\"", 1, max_rise_fall)) check.fall = static_cast<uint32_t>(*n);

        if (const json::Value* path = value.find("path"))
            if (const std::string* p = fields_.string(*path, "\"path\"")) {
                if (p->empty() || p->front() != '/')
                    fields_.error(path->position, "\"path\" must start with \"/\", as in \"/healthz\"");
                else
                    check.path = *p;
            }
        if (const json::Value* host = value.find("host"))
            if (const std::string* h = fields_.string(*host, "\"host\"")) check.host = *h;
        if (const json::Value* body = value.find("expect_body"))
            if (const std::string* b = fields_.string(*body, "\"expect_body\"")) check.expect_body = *b;
        if (const json::Value* verify = value.find("verify_tls"))
            if (auto v = fields_.boolean(*verify, "\"verify_tls\"")) check.verify_tls = *v;
        if (const json::Value* status = value.find("expect_status")) read_expect_status(check, *status);

        if (check.type == Check::Type::dns) {
            check.query = to_text(apex_);
            if (const json::Value* query = value.find("query"))
                if (const std::string* text = fields_.string(*query, "\"query\"")) {
                    std::string problem;
                    if (auto wire = to_wire(*text, apex_, problem))
                        check.query = to_text(*wire);
                    else
                        fields_.error(query->position, problem);
                }
        }
        if (const json::Value* query_type = value.find("query_type")) read_query_type(check, *query_type);
    }

    void read_expect_status(Check& check, const json::Value& value) {
        constexpr std::string_view how =
            "; use a status from 100 to 599, a range such as \"200-399\", or a list of those";
        if (value.kind == json::Kind::array && value.items.empty()) {
            fields_.error(value.position, "\"expect_status\" is empty" + std::string(how));
            return;
        }
        std::vector<std::pair<uint16_t, uint16_t>> ranges;
        for (const json::Value& item : entries(value)) {
            int64_t low = 0, high = 0;
            if (item.kind == json::Kind::integer) {
                low = high = item.integer;
            } else if (item.kind == json::Kind::string) {
                auto dash = item.string.find('-');
                auto number = [](std::string_view s) -> int64_t {
                    auto digit = [](char c) { return c >= '0' && c <= '9'; };
                    if (s.empty() || s.size() > 3 || !std::all_of(s.begin(), s.end(), digit)) return -1;
                    return std::stoi(std::string(s));
                };
                low = number(std::string_view(item.string).substr(0, dash));
                high = dash == std::string::npos ? low : number(std::string_view(item.string).substr(dash + 1));
            } else {
                low = -1;
            }
            if (low < 100 || high > 599 || low > high) {
                fields_.error(item.position, "bad \"expect_status\" entry" + std::string(how));
                continue;
            }
            ranges.emplace_back(static_cast<uint16_t>(low), static_cast<uint16_t>(high));
        }
        if (!ranges.empty()) check.expect_status = std::move(ranges);
    }

    void read_query_type(Check& check, const json::Value& value) {
        if (value.kind == json::Kind::string) {
            if (uint16_t type = rdata::type_code(value.string)) {
                check.query_type = type;
                return;
            }
            fields_.error(value.position, "unknown \"query_type\" " + quote(value.string) +
                                              suggest(value.string, wire::zone_file_type_names()));
            return;
        }
        if (auto n = fields_.integer(value, "\"query_type\"", 1, 65535)) check.query_type = static_cast<uint16_t>(*n);
    }

private:
    std::string_view apex_;
    Fields& fields_;
};

}  // namespace

void read_check(const json::Value& value, std::string_view apex, Fields& fields, Check& check) {
    CheckReader(apex, fields).read(value, check);
}

}  // namespace dnsd::zone
