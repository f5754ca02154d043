// The benchmark workloads for CAF 0.17 (Debian libcaf-dev), written for
// Backstage's suite (bench/README in docs/performance.md). Same workloads,
// same units, same output as backstage-bench:
//
//   caf_bench WORKLOAD N [reps] [threads]
//   -> WORKLOAD impl=caf ns_per_op=X ops=N threads=T rep=R
//
// Each run sets up its actors once, does a warm-up of N/10, then `reps`
// timed runs on the same actors. `threads` is CAF's scheduler.max-threads
// (default 1). main is a scoped_actor on the main thread, as in CAF's own
// examples; it is where the sends of count, spawn, fanout and large come
// from.
#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const std::vector<uint8_t>>)

using namespace caf;
using clk = std::chrono::steady_clock;

using go_atom = atom_constant<atom("go")>;
using total_atom = atom_constant<atom("total")>;
using fin_atom = atom_constant<atom("fin")>;
using next_atom = atom_constant<atom("next")>;

namespace {

long rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * 4096L;
}

// ---- pingpong --------------------------------------------------------------

behavior pong_fn(event_based_actor* self) {
  return {[=](int32_t x) { self->send(actor_cast<actor>(self->current_sender()), x); }};
}

struct ping_state {
  actor pong;
  actor waiter;
  int64_t left = 0;
  int64_t trips = 0;
};

behavior ping_fn(stateful_actor<ping_state>* self, actor pong) {
  self->state.pong = pong;
  return {
    [=](go_atom, int64_t rounds) {
      self->state.left = rounds;
      self->state.waiter = actor_cast<actor>(self->current_sender());
      self->send(self->state.pong, int32_t{1});
    },
    [=](int32_t x) {
      self->state.trips++;
      if (--self->state.left > 0)
        self->send(self->state.pong, x);
      else
        self->send(self->state.waiter, fin_atom::value, self->state.trips);
    }};
}

// ---- count, fanout ---------------------------------------------------------

struct counter_state {
  int64_t total = 0;
};

behavior counter_fn(stateful_actor<counter_state>* self) {
  return {[=](int32_t x) { self->state.total += x; },
          [=](int64_t x) { self->state.total += x; },
          [=](total_atom) -> int64_t { return self->state.total; }};
}

// ---- spawn -----------------------------------------------------------------

behavior worker_fn(event_based_actor* self, actor parent) {
  return {[=](int32_t x) {
    self->send(parent, x);
    self->quit();
  }};
}

// ---- ring ------------------------------------------------------------------

struct node_state {
  actor next;
  actor done;
};

behavior node_fn(stateful_actor<node_state>* self, actor done) {
  self->state.done = done;
  return {[=](next_atom, actor next) { self->state.next = next; },
          [=](int64_t hops) {
            if (hops == 0)
              self->send(self->state.done, fin_atom::value, int64_t{0});
            else
              self->send(self->state.next, hops - 1);
          }};
}

// ---- reply -----------------------------------------------------------------

behavior server_fn(event_based_actor*) {
  return {[=](int64_t x) -> int64_t { return x + 1; }};
}

struct asker_state {
  actor server;
  actor waiter;
  int64_t left = 0;
  int64_t trips = 0;
};

void ask(stateful_actor<asker_state>* self, int64_t v) {
  self->request(self->state.server, infinite, v).then([=](int64_t y) {
    self->state.trips++;
    if (--self->state.left > 0)
      ask(self, y);
    else
      self->send(self->state.waiter, fin_atom::value, self->state.trips);
  });
}

behavior asker_fn(stateful_actor<asker_state>* self, actor server) {
  self->state.server = server;
  return {[=](go_atom, int64_t rounds) {
    self->state.left = rounds;
    self->state.waiter = actor_cast<actor>(self->current_sender());
    ask(self, 0);
  }};
}

// ---- large -----------------------------------------------------------------

// 64 KiB per message: the sequence number and a 65528-byte buffer, copied
// into each message from the sender's buffer (as Backstage encodes its
// Chunk struct). CAF 0.17 needs no type registration for vector<uint8_t>.
constexpr size_t payload_bytes = 65536 - sizeof(int64_t);
constexpr int64_t large_burst = 64;

struct sink_state {
  int64_t received = 0;
  uint64_t check = 0;
};

behavior sink_fn(stateful_actor<sink_state>* self) {
  return {[=](int64_t seq, const std::vector<uint8_t>& buf) {
            self->state.received++;
            self->state.check += (uint64_t)seq + buf.front() + buf.back();
          },
          [=](total_atom) -> int64_t { return self->state.received; }};
}

// ---- large-blob --------------------------------------------------------------

// The payload made once and shared: each message carries a reference to an
// immutable buffer, as Backstage's blob does (a shared_ptr to const data;
// CAF copies only the pointer).
using shared_payload = std::shared_ptr<const std::vector<uint8_t>>;

behavior shared_sink_fn(stateful_actor<sink_state>* self) {
  return {[=](int64_t seq, const shared_payload& buf) {
            self->state.received++;
            self->state.check += (uint64_t)seq + buf->front() + buf->back();
          },
          [=](total_atom) -> int64_t { return self->state.received; }};
}

// ---- idle ------------------------------------------------------------------

behavior idle_fn(event_based_actor* self) {
  return {[=](int32_t) { return int32_t{0}; }};
}

// ---- driver ----------------------------------------------------------------

int64_t ask_total(scoped_actor& self, const actor& a) {
  int64_t got = -1;
  self->request(a, infinite, total_atom::value)
    .receive([&](int64_t v) { got = v; }, [&](error&) { got = -1; });
  return got;
}

void wait_fin(scoped_actor& self) {
  self->receive([](fin_atom, int64_t) {});
}

void line(const std::string& w, double ns, long ops, int threads, int rep) {
  std::printf("%s impl=caf ns_per_op=%.3f ops=%ld threads=%d rep=%d\n", w.c_str(), ns / ops,
              ops, threads, rep);
  std::fflush(stdout);
}

int fail(const std::string& w, const char* what, long long got, long long want) {
  std::fprintf(stderr, "%s: %s: got %lld, want %lld\n", w.c_str(), what, got, want);
  return 1;
}

// Runs `body(size)` once for warm-up, then `reps` times timed.
template <class F>
void measure(const std::string& w, long n, long ops, int reps, int threads, F body) {
  body(n / 10 ? n / 10 : 1);
  for (int rep = 1; rep <= reps; ++rep) {
    auto t0 = clk::now();
    body(n);
    double ns = std::chrono::duration<double, std::nano>(clk::now() - t0).count();
    line(w, ns, ops, threads, rep);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s WORKLOAD N [reps] [threads]\n", argv[0]);
    return 2;
  }
  std::string w = argv[1];
  long n = std::atol(argv[2]);
  int reps = argc > 3 ? std::atoi(argv[3]) : 1;
  int threads = argc > 4 ? std::atoi(argv[4]) : 1;
  if (n <= 0 || reps <= 0 || threads <= 0) return 2;
  actor_system_config cfg;
  cfg.set("scheduler.max-threads", (size_t)threads);
  actor_system sys{cfg};
  scoped_actor self{sys};
  int rc = 0;

  if (w == "pingpong") {
    auto po = sys.spawn(pong_fn);
    auto pi = sys.spawn(ping_fn, po);
    measure(w, n, 2 * n, reps, threads, [&](long k) {
      self->send(pi, go_atom::value, (int64_t)k);
      wait_fin(self);
    });
    anon_send_exit(pi, exit_reason::user_shutdown);
    anon_send_exit(po, exit_reason::user_shutdown);
  } else if (w == "count") {
    auto c = sys.spawn(counter_fn);
    int64_t want = 0, got = 0;
    measure(w, n, n, reps, threads, [&](long k) {
      for (long i = 0; i < k; ++i) self->send(c, int32_t{1});
      got = ask_total(self, c);
      want += k;
      if (got != want) rc = fail(w, "total", got, want);
    });
    anon_send_exit(c, exit_reason::user_shutdown);
  } else if (w == "spawn") {
    measure(w, n, n, reps, threads, [&](long k) {
      for (long i = 0; i < k; ++i) {
        auto a = sys.spawn(worker_fn, actor{self});
        self->send(a, int32_t{1});
      }
      long got = 0;
      self->receive_for(got, k)([](int32_t) {});
    });
  } else if (w == "ring") {
    const long nodes = 1000;
    std::vector<actor> ring;
    for (long i = 0; i < nodes; ++i) ring.push_back(sys.spawn(node_fn, actor{self}));
    for (long i = 0; i < nodes; ++i) self->send(ring[i], next_atom::value, ring[(i + 1) % nodes]);
    measure(w, n, n, reps, threads, [&](long k) {
      self->send(ring[0], (int64_t)k);
      wait_fin(self);
    });
    for (auto& a : ring) anon_send_exit(a, exit_reason::user_shutdown);
  } else if (w == "fanout") {
    const long subs = 100;
    long events = n / subs ? n / subs : 1;
    auto grp = sys.groups().get_local("events");
    std::vector<actor> cs;
    for (long i = 0; i < subs; ++i) cs.push_back(sys.spawn_in_group(grp, counter_fn));
    int64_t want = 0;
    measure(w, events, events * subs, reps, threads, [&](long k) {
      for (long i = 0; i < k; ++i) self->send(grp, int64_t{1});
      want += k;
      for (auto& c : cs) {
        int64_t got = ask_total(self, c);
        if (got != want) rc = fail(w, "subscriber total", got, want);
      }
    });
    for (auto& c : cs) anon_send_exit(c, exit_reason::user_shutdown);
  } else if (w == "reply") {
    auto server = sys.spawn(server_fn);
    auto asker = sys.spawn(asker_fn, server);
    measure(w, n, n, reps, threads, [&](long k) {
      self->send(asker, go_atom::value, (int64_t)k);
      wait_fin(self);
    });
    anon_send_exit(asker, exit_reason::user_shutdown);
    anon_send_exit(server, exit_reason::user_shutdown);
  } else if (w == "await") {
    auto server = sys.spawn(server_fn);
    measure(w, n, n, reps, threads, [&](long k) {
      for (long i = 0; i < k; ++i) {
        int64_t got = -1;
        self->request(server, infinite, (int64_t)i)
          .receive([&](int64_t v) { got = v; }, [&](error&) {});
        if (got != i + 1) rc = fail(w, "echo", got, i + 1);
      }
    });
    anon_send_exit(server, exit_reason::user_shutdown);
  } else if (w == "large") {
    auto sink = sys.spawn(sink_fn);
    std::vector<uint8_t> buf(payload_bytes);
    for (size_t i = 0; i < buf.size(); ++i) buf[i] = (uint8_t)(i * 131u);
    int64_t want = 0;
    measure(w, n, n, reps, threads, [&](long k) {
      int64_t got = 0;
      for (long i = 0; i < k;) {
        long end = i + large_burst < k ? i + large_burst : k;
        for (; i < end; ++i) self->send(sink, (int64_t)i, buf);  // copies buf
        got = ask_total(self, sink);  // flow control: the sink has caught up
      }
      want += k;
      if (got != want) rc = fail(w, "received", got, want);
    });
    anon_send_exit(sink, exit_reason::user_shutdown);
  } else if (w == "large-blob") {
    auto sink = sys.spawn(shared_sink_fn);
    auto buf = std::make_shared<std::vector<uint8_t>>(payload_bytes);
    for (size_t i = 0; i < buf->size(); ++i) (*buf)[i] = (uint8_t)(i * 131u);
    shared_payload shared = buf;
    int64_t want = 0;
    measure(w, n, n, reps, threads, [&](long k) {
      int64_t got = 0;
      for (long i = 0; i < k;) {
        long end = i + large_burst < k ? i + large_burst : k;
        for (; i < end; ++i) self->send(sink, (int64_t)i, shared);  // copies the pointer
        got = ask_total(self, sink);
      }
      want += k;
      if (got != want) rc = fail(w, "received", got, want);
    });
    anon_send_exit(sink, exit_reason::user_shutdown);
  } else if (w == "idle") {
    std::vector<actor> v;
    v.reserve(n);
    long r0 = rss_bytes();
    for (long i = 0; i < n; ++i) {
      v.push_back(sys.spawn(idle_fn));
      self->send(v.back(), int32_t{1});
    }
    long got = 0;
    self->receive_for(got, n)([](int32_t) {});  // every actor has run once
    long r1 = rss_bytes();
    std::printf("idle impl=caf bytes_per_actor=%.1f actors=%ld\n", (double)(r1 - r0) / n, n);
    for (auto& a : v) anon_send_exit(a, exit_reason::user_shutdown);
  } else {
    std::fprintf(stderr, "unknown workload %s\n", w.c_str());
    return 2;
  }
  return rc;
}
