// What the sandbox adds to a run: /bin/true and a tiny compiled C program, each started
// through the direct runner and through the sandbox, interleaved in one process so that
// both see the same machine. Prints wall-time percentiles per case, the CPU time a run costs
// (ours and all its processes', which a busy machine does not inflate) and the p50 the
// sandbox adds.
//
//   sandbox_bench [iterations]    (default 200)

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/files.h"
#include "sandbox/process.h"
#include "sandbox/sandbox.h"

namespace cex {
namespace {

// Wall times of one case and the CPU time its runs used, in milliseconds.
struct Samples {
  std::string name;
  std::vector<double> ms = {};
  double cpu_ms = 0;

  double percentile(double p) const {
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[index];
  }
};

// User and system time of this process and of every waited-for descendant.
double cpuMs() {
  auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 + t.tv_usec / 1e3;
  };
  rusage self{};
  rusage children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return ms(self.ru_utime) + ms(self.ru_stime) + ms(children.ru_utime) + ms(children.ru_stime);
}

// Times one run from the caller's side, including everything the runner does around it.
bool timeRun(ProcessRunner& runner, const ProcessSpec& spec, Samples* samples) {
  double cpu_start = cpuMs();
  auto start = std::chrono::steady_clock::now();
  auto r = runner.run(spec);
  auto end = std::chrono::steady_clock::now();
  samples->cpu_ms += cpuMs() - cpu_start;
  if (!r.ok() || r->exit_code != 0) {
    std::fprintf(stderr, "sandbox_bench: %s failed: %s\n", samples->name.c_str(),
                 r.ok() ? r->stderr_data.c_str() : r.status().toString().c_str());
    return false;
  }
  samples->ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  return true;
}

ProcessSpec specFor(const std::string& exe, const std::string& dir, SandboxProfile profile) {
  ProcessSpec spec;
  spec.argv = {exe};
  spec.cwd = dir;
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.profile = profile;
  spec.writable_paths = {dir};
  spec.timeout = std::chrono::seconds(10);
  return spec;
}

// One thing to time: a runner and what it runs.
struct Case {
  Samples samples;
  ProcessRunner* runner;
  ProcessSpec spec;
};

// Builds the tiny program in `dir` on the host; false when the compiler fails.
bool buildHello(const std::string& dir) {
  if (!writeFile(dir + "/hello.c", "#include <stdio.h>\nint main(void) { puts(\"hi\"); }\n")
           .isOk()) {
    return false;
  }
  std::string compile = "cc -O2 -o " + dir + "/hello " + dir + "/hello.c";
  return std::system(compile.c_str()) == 0;  // NOLINT(concurrency-mt-unsafe)
}

void report(const std::vector<Case>& cases, int iterations) {
  std::printf("%-30s %8s %8s %8s %8s %8s\n", "case (ms)", "min", "p50", "p90", "p99", "cpu");
  for (const auto& c : cases) {
    std::printf("%-30s %8.2f %8.2f %8.2f %8.2f %8.2f\n", c.samples.name.c_str(),
                c.samples.percentile(0), c.samples.percentile(0.5), c.samples.percentile(0.9),
                c.samples.percentile(0.99), c.samples.cpu_ms / iterations);
  }
  std::printf("added p50: /bin/true %.2f ms, hello %.2f ms (goal: at most 10 ms)\n",
              cases[1].samples.percentile(0.5) - cases[0].samples.percentile(0.5),
              cases[3].samples.percentile(0.5) - cases[2].samples.percentile(0.5));
}

int run(int iterations) {
  auto sandbox = makeSandboxRunner(SandboxConfig{});
  if (!sandbox.ok()) {
    std::fprintf(stderr, "sandbox_bench: %s\n", sandbox.status().toString().c_str());
    return 1;
  }
  auto direct = makeDirectRunner();
  auto dir = TempDir::create("/tmp", "cex-sandbox-bench-");
  if (!dir.ok() || !buildHello(dir->path())) {
    std::fprintf(stderr, "sandbox_bench: cannot build the test program\n");
    return 1;
  }
  std::printf("%s\n", (*sandbox)->describe().c_str());

  // Interleaved, so that a busy moment of the machine hits every case alike.
  std::string hello = dir->path() + "/hello";
  std::vector<Case> cases = {
      {{"direct /bin/true"},
       direct.get(),
       specFor("/bin/true", dir->path(), SandboxProfile::Compiler)},
      {{"sandbox /bin/true (compiler)"},
       sandbox->get(),
       specFor("/bin/true", dir->path(), SandboxProfile::Compiler)},
      {{"direct hello"}, direct.get(), specFor(hello, dir->path(), SandboxProfile::UserProgram)},
      {{"sandbox hello (user program)"},
       sandbox->get(),
       specFor(hello, dir->path(), SandboxProfile::UserProgram)},
  };
  for (int i = 0; i < iterations; ++i) {
    for (auto& c : cases) {
      if (!timeRun(*c.runner, c.spec, &c.samples)) {
        return 1;
      }
    }
  }
  report(cases, iterations);
  return 0;
}

}  // namespace
}  // namespace cex

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
  return cex::run(std::max(iterations, 1));
}
