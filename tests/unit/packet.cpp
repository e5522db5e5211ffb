#include "packet.hpp"

#include <array>
#include <cstdio>
#include <stdexcept>

namespace dnsd::test {

namespace {

struct TypeName {
    uint16_t code;
    const char* name;
};
constexpr std::array<TypeName, 17> type_names{{{1, "A"},     {2, "NS"},     {5, "CNAME"}, {6, "SOA"},
                                               {12, "PTR"},  {15, "MX"},    {16, "TXT"},  {28, "AAAA"},
                                               {33, "SRV"},  {41, "OPT"},   {43, "DS"},   {251, "IXFR"},
                                               {252, "AXFR"}, {255, "ANY"}, {257, "CAA"}, {99, "SPF"},
                                               {13, "HINFO"}}};

// Reads a packet front to back; any read past the end throws, which decode()
// turns into an error.
class Cursor {
public:
    explicit Cursor(std::span<const uint8_t> packet) : packet_(packet) {}

    uint8_t u8() {
        need(1);
        return packet_[pos_++];
    }
    uint16_t u16() {
        need(2);
        const uint16_t v = static_cast<uint16_t>(packet_[pos_] << 8 | packet_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    uint32_t u32() {
        const uint32_t high = u16();
        return high << 16 | u16();
    }
    std::span<const uint8_t> take(size_t n) {
        need(n);
        auto s = packet_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    // A name in presentation form with its final dot, following pointers
    // (any direction, at most 64 of them).
    std::string name() {
        std::string out;
        size_t wire_size = 1;  // the root label
        size_t p = pos_;
        bool jumped = false;
        for (int hops = 0;;) {
            if (p >= packet_.size()) throw std::runtime_error("name runs past the end");
            const uint8_t len = packet_[p];
            if ((len & 0xc0) == 0xc0) {
                if (p + 1 >= packet_.size()) throw std::runtime_error("pointer runs past the end");
                if (++hops > 64) throw std::runtime_error("pointer loop");
                if (!jumped) pos_ = p + 2;
                jumped = true;
                p = size_t{len & 0x3fu} << 8 | packet_[p + 1];
                continue;
            }
            if (len > 63) throw std::runtime_error("bad label length");
            if (p + 1 + len > packet_.size()) throw std::runtime_error("label runs past the end");
            if (len == 0) {
                if (!jumped) pos_ = p + 1;
                break;
            }
            // On the wire, not in the text: an escaped octet takes four characters.
            wire_size += 1 + len;
            if (wire_size > 255) throw std::runtime_error("name too long");
            for (size_t i = 1; i <= len; ++i) {
                const uint8_t c = packet_[p + i];
                if (c == '.' || c == '\\' || c < 0x21 || c > 0x7e) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\%03u", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
            }
            out += '.';
            p += 1 + len;
        }
        return out.empty() ? "." : out;
    }
    size_t remaining() const { return packet_.size() - pos_; }
    size_t position() const { return pos_; }

private:
    void need(size_t n) const {
        if (n > packet_.size() - pos_) throw std::runtime_error("packet too short");
    }
    std::span<const uint8_t> packet_;
    size_t pos_ = 0;
};

std::string quoted(std::span<const uint8_t> bytes) {
    std::string out = "\"";
    for (uint8_t c : bytes) {
        if (c == '"' || c == '\\' || c < 0x20 || c > 0x7e) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\%03u", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string hex(std::span<const uint8_t> bytes) {
    std::string out;
    char buf[4];
    for (uint8_t c : bytes) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
    }
    return out;
}

core::Address address_of(std::span<const uint8_t> bytes) {
    core::Address a;
    a.family = bytes.size() == 4 ? core::Family::v4 : core::Family::v6;
    for (size_t i = 0; i < bytes.size(); ++i) a.bytes[i] = bytes[i];
    return a;
}

// RDATA of `type` in presentation form; names inside are read through `c`,
// which sits at the RDATA's start, so compression pointers resolve.
std::string rdata_text(Cursor& c, uint16_t type, uint16_t rdlength) {
    const size_t end = c.position() + rdlength;
    std::string out;
    switch (type) {
    case 1:
    case 28:
        if (rdlength != (type == 1 ? 4 : 16)) throw std::runtime_error("bad address length");
        out = address_of(c.take(rdlength)).to_string();
        break;
    case 2:
    case 5:
    case 12:
        out = c.name();
        break;
    case 15: {
        const uint16_t pref = c.u16();
        out = std::to_string(pref) + " " + c.name();
        break;
    }
    case 6: {
        out = c.name();
        out += " " + c.name();
        for (int i = 0; i < 5; ++i) out += " " + std::to_string(c.u32());
        break;
    }
    case 33: {
        const uint16_t prio = c.u16(), weight = c.u16(), port = c.u16();
        out = std::to_string(prio) + " " + std::to_string(weight) + " " + std::to_string(port) + " " + c.name();
        break;
    }
    case 16:
        while (c.position() < end) {
            if (!out.empty()) out += ' ';
            out += quoted(c.take(c.u8()));
        }
        break;
    case 257: {
        const uint8_t flags = c.u8();
        const auto tag = c.take(c.u8());
        out = std::to_string(flags) + " " + std::string(tag.begin(), tag.end()) + " " +
              quoted(c.take(end - c.position()));
        break;
    }
    default:
        out = "\\# " + std::to_string(rdlength) + " " + hex(c.take(rdlength));
        break;
    }
    if (c.position() != end) throw std::runtime_error("RDATA length does not match its content");
    return out;
}

std::string opt_text(Cursor& c, uint16_t payload, uint32_t ttl, uint16_t rdlength) {
    std::string out = "edns version=" + std::to_string((ttl >> 16) & 0xff) + " udp=" + std::to_string(payload);
    if (ttl & 0x8000) out += " do";
    const size_t end = c.position() + rdlength;
    while (c.position() < end) {
        const uint16_t code = c.u16();
        const uint16_t length = c.u16();
        if (c.position() + length > end) throw std::runtime_error("option runs past the OPT");
        auto data = c.take(length);
        if (code == 3) {
            out += " nsid=" + quoted(data);
        } else if (code == 8) {
            if (data.size() < 4) throw std::runtime_error("short ECS");
            const uint16_t family = static_cast<uint16_t>(data[0] << 8 | data[1]);
            std::array<uint8_t, 16> bytes{};
            const size_t size = family == 1 ? 4 : 16;
            if (data.size() - 4 > size) throw std::runtime_error("long ECS address");
            for (size_t i = 4; i < data.size(); ++i) bytes[i - 4] = data[i];
            out += " ecs=" + address_of({bytes.data(), size}).to_string() + "/" + std::to_string(data[2]) + "/" +
                   std::to_string(data[3]);
        } else {
            out += " option" + std::to_string(code) + "=" + hex(data);
        }
    }
    return out;
}

}  // namespace

std::optional<uint16_t> type_code(std::string_view name) {
    for (const auto& t : type_names)
        if (name == t.name) return t.code;
    if (name.starts_with("TYPE")) {
        unsigned v = 0;
        if (std::sscanf(std::string(name.substr(4)).c_str(), "%u", &v) == 1 && v <= 0xffff)
            return static_cast<uint16_t>(v);
    }
    return std::nullopt;
}

std::string type_name(uint16_t type) {
    for (const auto& t : type_names)
        if (type == t.code) return t.name;
    return "TYPE" + std::to_string(type);
}

std::string rcode_name(uint16_t rcode) {
    static constexpr std::array<const char*, 6> names{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
    if (rcode < names.size()) return names[rcode];
    if (rcode == 16) return "BADVERS";
    if (rcode == 23) return "BADCOOKIE";
    return "RCODE" + std::to_string(rcode);
}

std::vector<uint8_t> build_query(const QuerySpec& spec) {
    const bool edns = spec.edns || spec.nsid || spec.ecs_address.has_value() || !spec.cookie.empty();
    Bytes b;
    b.header(spec.id, static_cast<uint16_t>((spec.opcode & 0xf) << 11 | (spec.rd ? 0x0100 : 0)), 1, 0, 0,
             edns ? 1 : 0);
    b.name(spec.name).u16(spec.type).u16(spec.qclass);
    if (!edns) return b.data;
    Bytes options;
    if (spec.nsid) options.u16(3).u16(0);
    if (spec.ecs_address) {
        const auto& a = *spec.ecs_address;
        const size_t octets = (spec.ecs_prefix + 7u) / 8u;
        options.u16(8).u16(static_cast<uint16_t>(4 + octets)).u16(a.family == core::Family::v4 ? 1 : 2);
        options.u8(spec.ecs_prefix).u8(0).raw({a.bytes.data(), octets});
    }
    if (!spec.cookie.empty()) options.u16(10).u16(static_cast<uint16_t>(spec.cookie.size())).raw(spec.cookie);
    b.u8(0).u16(41).u16(spec.udp_size).u8(0).u8(spec.edns_version).u16(spec.dnssec_ok ? 0x8000 : 0);
    b.u16(static_cast<uint16_t>(options.size())).raw(options.data);
    return b.data;
}

Decoded decode(std::span<const uint8_t> packet) {
    Decoded d;
    try {
        Cursor c(packet);
        d.id = c.u16();
        const uint16_t flags = c.u16();
        const uint16_t qd = c.u16(), an = c.u16(), ns = c.u16(), ar = c.u16();
        d.opcode = static_cast<uint8_t>((flags >> 11) & 0xf);
        d.tc = flags & 0x0200;
        d.aa = flags & 0x0400;
        d.rcode = flags & 0xf;
        std::string flag_text;
        static constexpr std::array<std::pair<uint16_t, const char*>, 7> flag_names{
            {{0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"}, {0x0100, "rd"}, {0x0080, "ra"}, {0x0020, "ad"}, {0x0010, "cd"}}};
        for (const auto& [bit, text] : flag_names)
            if (flags & bit) flag_text += std::string(" ") + text;
        if (flags & 0x0040) throw std::runtime_error("Z bit set");
        std::vector<std::string> lines;
        for (uint16_t i = 0; i < qd; ++i) {
            std::string name = c.name();
            const uint16_t type = c.u16(), qclass = c.u16();
            lines.push_back("question " + name + (qclass == 1 ? " " : " CLASS" + std::to_string(qclass) + " ") +
                            type_name(type));
        }
        bool seen_opt = false;
        static constexpr std::array<const char*, 3> sections{"answer", "authority", "additional"};
        const std::array<uint16_t, 3> counts{an, ns, ar};
        for (size_t s = 0; s < 3; ++s) {
            for (uint16_t i = 0; i < counts[s]; ++i) {
                std::string owner = c.name();
                const uint16_t type = c.u16(), rclass = c.u16();
                const uint32_t ttl = c.u32();
                const uint16_t rdlength = c.u16();
                if (c.remaining() < rdlength) throw std::runtime_error("RDATA runs past the end");
                if (type == 41) {
                    if (s != 2 || seen_opt || owner != ".") throw std::runtime_error("misplaced OPT");
                    seen_opt = true;
                    d.rcode = static_cast<uint16_t>(d.rcode | ((ttl >> 24) << 4));
                    lines.push_back(opt_text(c, rclass, ttl, rdlength));
                    continue;
                }
                if (rclass != 1) throw std::runtime_error("record class is not IN");
                std::string text = owner + " " + std::to_string(ttl) + " " + type_name(type) + " " +
                                   rdata_text(c, type, rdlength);
                if (s == 0) d.answer.push_back(text);
                lines.push_back(std::string(sections[s]) + " " + text);
            }
        }
        if (c.remaining() != 0) throw std::runtime_error("trailing bytes");
        d.lines.push_back("rcode " + rcode_name(d.rcode) + " flags" + flag_text);
        d.lines.insert(d.lines.end(), lines.begin(), lines.end());
        d.ok = true;
    } catch (const std::exception& e) {
        d.error = e.what();
    }
    return d;
}

}  // namespace dnsd::test
