// `rvkvm run`: boots a Linux guest (or any RISC-V kernel) on the hypervisor.
#include <csignal>
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "vmm/vmm.h"

namespace rvkvm::cli {
namespace {

struct RunOptions {
  std::string kernel, initrd, append, memory = "512M", console = "serial", dump_dtb, gstage = "sv57x4";
  std::vector<std::string> disks, nets;
  unsigned cpus = 1;
  bool no_huge = false, stats = false;
  bool append_given = false;
};

vmm::Vmm* g_running = nullptr;

void on_signal(int sig) {
  if (g_running) g_running->request_stop(128 + sig);
}

bool parse_memory(const std::string& s, u64& out) {
  if (s.empty()) return false;
  std::size_t idx = 0;
  unsigned long long v;
  try {
    v = std::stoull(s, &idx, 10);
  } catch (...) {
    return false;
  }
  std::string suf = s.substr(idx);
  u64 mul = 1ull << 20;  // a bare number is MiB, as in kvmtool and QEMU
  if (suf == "M" || suf == "m" || suf == "MB" || suf == "MiB") mul = 1ull << 20;
  else if (suf == "G" || suf == "g" || suf == "GB" || suf == "GiB") mul = 1ull << 30;
  else if (!suf.empty()) return false;
  out = v * mul;
  return true;
}

int run_vm(const RunOptions& o) {
  vmm::VmmConfig c;
  c.kernel = o.kernel;
  c.initrd = o.initrd;
  c.append = o.append;
  c.append_given = o.append_given;
  if (!parse_memory(o.memory, c.memory)) {
    fmt::print(stderr, "rvkvm run: bad --memory '{}'\n", o.memory);
    return 2;
  }
  c.cpus = o.cpus;
  for (const std::string& d : o.disks) {
    vmm::DiskSpec spec;
    std::string path = d;
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ",ro") == 0) {
      spec.read_only = true;
      path.resize(path.size() - 3);
    }
    spec.path = path;
    c.disks.push_back(spec);
  }
  for (const std::string& n : o.nets) {
    if (n.rfind("user", 0) != 0) {
      fmt::print(stderr, "rvkvm run: only --net user[,hostfwd=...] is supported\n");
      return 2;
    }
    c.net = true;
    std::size_t pos = 0;
    while ((pos = n.find(",hostfwd=", pos)) != std::string::npos) {
      pos += 9;
      std::size_t end = n.find(',', pos);
      c.hostfwds.push_back(n.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    }
  }
  c.console = o.console == "virtio" ? vmm::ConsoleKind::virtio : o.console == "sbi" ? vmm::ConsoleKind::sbi
                                                                                     : vmm::ConsoleKind::serial;
  c.dump_dtb = o.dump_dtb;
  c.gstage_mode = o.gstage == "sv39x4" ? 8 : o.gstage == "sv48x4" ? 9 : 10;
  c.huge_pages = !o.no_huge;
  c.stats = o.stats;
  vmm::Vmm machine(c);
  std::string err;
  if (!machine.setup(err)) {
    fmt::print(stderr, "rvkvm run: {}\n", err);
    return 2;
  }
  g_running = &machine;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  int rc = machine.run();
  g_running = nullptr;
  return rc;
}

}  // namespace

void register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand("run", "Boot a RISC-V Linux guest (kvmtool-style) on the rvkvm hypervisor");
  run->add_option("-k,--kernel", o->kernel, "Kernel: a Linux RISC-V Image, an ELF, or a flat binary loaded at RAM+2MiB")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_option("-i,--initrd", o->initrd, "Initial ramdisk, placed at the top of the first 256 MiB of RAM")
      ->check(CLI::ExistingFile);
  run->add_option("-p,--append", o->append, "Kernel command line (default by --console: serial \"console=ttyS0 earlycon=sbi\", virtio \"console=hvc0 earlycon=sbi\", sbi \"console=hvc0 earlycon=sbi keep_bootcon\")")
      ->each([o](const std::string&) { o->append_given = true; });
  run->add_option("-m,--memory", o->memory, "Guest RAM, e.g. 512M or 2G (a bare number is MiB)")->capture_default_str();
  run->add_option("-c,--cpus", o->cpus, "Number of VCPUs (1-32); the others start in HSM STOPPED")->capture_default_str();
  run->add_option("--disk", o->disks, "Raw disk image as virtio-blk; FILE,ro for read-only (repeatable)");
  run->add_option("--net", o->nets, "user[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...: one virtio-net NIC with user-mode networking (10.0.2.15/24, gateway 10.0.2.2); forwarded ports listen on 127.0.0.1 unless HOSTADDR says otherwise");
  run->add_option("--console", o->console, "Guest console: serial (16550, ttyS0), virtio (hvc0) or sbi (SBI debug console)")
      ->check(CLI::IsMember({"serial", "virtio", "sbi"}))
      ->capture_default_str();
  run->add_option("--dump-dtb", o->dump_dtb, "Write the generated device tree blob to FILE");
  run->add_option("--gstage", o->gstage, "G-stage translation mode")
      ->check(CLI::IsMember({"sv39x4", "sv48x4", "sv57x4"}))
      ->capture_default_str();
  run->add_flag("--no-huge", o->no_huge, "Map guest memory with 4 KiB G-stage pages only");
  run->add_flag("--stats", o->stats, "Print per-exit-reason counters and guest MIPS at exit");
  run->callback([o] { set_exit_code(run_vm(*o)); });
}

}  // namespace rvkvm::cli
