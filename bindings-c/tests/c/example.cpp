// C++ use of libredbridge: the header's extern "C" guards, RAII ownership with
// unique_ptr deleters, std::string arguments (binary-safe). Built with g++ by make test.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "redbridge.h"

namespace {

struct ClientFree { void operator()(redbridge_client *c) const { redbridge_client_free(c); } };
struct ReplyFree { void operator()(redbridge_reply *r) const { redbridge_reply_free(r); } };
using Client = std::unique_ptr<redbridge_client, ClientFree>;
using Reply = std::unique_ptr<redbridge_reply, ReplyFree>;

Client open(const char *url) {
    redbridge_client *c = nullptr;
    if (redbridge_client_open(url, &c) != REDBRIDGE_OK) throw std::runtime_error(redbridge_last_error());
    return Client(c);
}

Reply command(const Client &c, const std::vector<std::string> &args) {
    std::vector<const char *> argv;
    std::vector<size_t> lens;
    for (const auto &a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    redbridge_reply *r = nullptr;
    redbridge_status s = redbridge_command_argv(c.get(), static_cast<int>(argv.size()), argv.data(), lens.data(), &r);
    Reply owned(r);
    if (s != REDBRIDGE_OK) throw std::runtime_error(std::string(redbridge_status_name(s)) + ": " + redbridge_last_error());
    return owned;
}

}  // namespace

int main() {
    const char *url = std::getenv("REDIS_URL");
    if (!url) return 2;
    try {
        Client client = open(url);
        command(client, {"SET", "cpp:key", std::string("bin\0ary", 7)});
        Reply r = command(client, {"GET", "cpp:key"});
        if (r->type != REDBRIDGE_REPLY_STRING || std::string(r->str, r->len) != std::string("bin\0ary", 7)) {
            std::fprintf(stderr, "unexpected reply\n");
            return 1;
        }
        try {
            command(client, {"LPUSH", "cpp:key", "x"});
            return 1;
        } catch (const std::runtime_error &e) {
            std::printf("C++ caught: %s\n", e.what());
        }
        std::printf("cpp: 1 passed, 0 failed\n");
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
