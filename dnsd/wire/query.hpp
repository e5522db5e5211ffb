#pragma once
// Parsing a query (RFC 1035 §4.1, EDNS(0) per RFC 6891, ECS per RFC 7871,
// NSID per RFC 5001, cookies per RFC 7873). Only what the responder needs is
// kept; the packet is never modified.
#include <array>
#include <cstdint>
#include <span>

#include "dnsd/core/address.hpp"
#include "dnsd/wire/message.hpp"
#include "dnsd/wire/name.hpp"

namespace dnsd::wire {

// EDNS Client Subnet as sent: the address has no bits set past source_prefix.
struct ClientSubnet {
    core::Address address;  // family from the option's FAMILY field
    uint8_t source_prefix = 0;
};

// A COOKIE option as sent (RFC 7873 §4): a client cookie, and the server
// cookie the client learned before, if any.
struct Cookie {
    std::array<uint8_t, client_cookie_size> client{};
    std::array<uint8_t, max_server_cookie_size> server{};  // [0, server_size) only
    uint8_t server_size = 0;  // 0: none yet
    std::span<const uint8_t> server_cookie() const { return {server.data(), server_size}; }
};

struct Edns {
    uint16_t payload = 512;  // requestor's UDP payload size, at least 512
    uint8_t version = 0;
    bool dnssec_ok = false;
    bool nsid = false;             // the query asks for our NSID
    bool has_ecs = false;
    ClientSubnet ecs;
    bool has_cookie = false;
    Cookie cookie;
};

struct Query {
    uint16_t id = 0;
    uint8_t opcode = 0;
    bool rd = false;
    bool cd = false;
    bool has_question = false;  // the question parsed; it may be echoed
    ParsedName qname;           // meaningful only with has_question
    uint16_t qtype = 0;
    uint16_t qclass = 0;
    bool has_edns = false;      // an OPT was found (even when an option in it was bad)
    Edns edns;
};

enum class ParseStatus : uint8_t {
    ok,
    drop,     // shorter than a header, or QR set: never answered
    notimp,   // opcode other than QUERY; the header fields and the OPT are filled in
    formerr,  // anything malformed; has_question/has_edns say what may be echoed
    cookie_only,  // no question, a well-formed OPT with a COOKIE: asks for a server cookie (RFC 7873 §5.4)
};

// Parses `packet` into `query`. FORMERR covers: QDCOUNT != 1 (but see cookie_only), a malformed
// name, record or option, an OPT outside the additional section, with a
// non-root owner, or twice, an invalid ECS or cookie, and bytes after the
// last counted record. With NOTIMP or with QDCOUNT != 1 the records are still
// read, so that the reply can carry an OPT when the query had one (RFC 6891
// §7); whatever they hold, the status stays.
//
// Only the question's name is expanded; the owners of the other records are
// skipped without following their pointers, so a packet costs work in
// proportion to its size.
ParseStatus parse_query(std::span<const uint8_t> packet, Query& query);

}  // namespace dnsd::wire
