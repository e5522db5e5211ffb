// tcp check: success once the connection is established.
#include <utility>

#include "dnsd/health/connection.hpp"
#include "dnsd/health/probe.hpp"

namespace dnsd::health {

namespace {

class TcpProbe final : public Probe, Connection::Events {
public:
    TcpProbe(uv_loop_t* loop, ProbeDone done) : done_(std::move(done)), connection_(loop, *this) {}
    void start(const zone::ProbeTarget& target) { connection_.connect(target.address, target.check.port); }

private:
    void on_connected() override { report({true, {}}); }
    void on_data(std::span<const char>) override {}
    void on_eof() override {}
    void on_error(std::string reason) override { report({false, std::move(reason)}); }

    void report(ProbeResult result) {
        connection_.close();
        if (done_) std::exchange(done_, nullptr)(std::move(result));
    }

    ProbeDone done_;
    Connection connection_;
};

}  // namespace

std::unique_ptr<Probe> start_tcp_probe(uv_loop_t* loop, const zone::ProbeTarget& target, ProbeDone done) {
    auto probe = std::make_unique<TcpProbe>(loop, std::move(done));
    probe->start(target);
    return probe;
}

}  // namespace dnsd::health
