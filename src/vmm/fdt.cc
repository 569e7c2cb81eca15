#include "vmm/fdt.h"

#include <libfdt.h>

#include <fmt/format.h>

namespace rvkvm::vmm {
namespace {

class Writer {
 public:
  explicit Writer(std::vector<u8>& buf) : m_buf(buf) {}
  bool ok() const { return m_err == 0; }
  int err() const { return m_err; }
  void check(int rc) {
    if (rc < 0 && m_err == 0) m_err = rc;
  }
  void begin(const std::string& name) { check(fdt_begin_node(m_buf.data(), name.c_str())); }
  void end() { check(fdt_end_node(m_buf.data())); }
  void prop_u32(const char* name, u32 v) { check(fdt_property_u32(m_buf.data(), name, v)); }
  void prop_u64(const char* name, u64 v) { check(fdt_property_u64(m_buf.data(), name, v)); }
  void prop_str(const char* name, const std::string& v) { check(fdt_property_string(m_buf.data(), name, v.c_str())); }
  void prop_empty(const char* name) { check(fdt_property(m_buf.data(), name, nullptr, 0)); }
  void prop_strings(const char* name, const std::vector<std::string>& v) {
    std::string joined;
    for (const auto& s : v) joined.append(s).push_back('\0');
    check(fdt_property(m_buf.data(), name, joined.data(), static_cast<int>(joined.size())));
  }
  void prop_cells(const char* name, const std::vector<u32>& cells) {
    std::vector<fdt32_t> be;
    for (u32 c : cells) be.push_back(cpu_to_fdt32(c));
    check(fdt_property(m_buf.data(), name, be.data(), static_cast<int>(be.size() * sizeof(fdt32_t))));
  }
  void prop_reg(u64 base, u64 size) {
    prop_cells("reg", {static_cast<u32>(base >> 32), static_cast<u32>(base), static_cast<u32>(size >> 32),
                       static_cast<u32>(size)});
  }

 private:
  std::vector<u8>& m_buf;
  int m_err = 0;
};

}  // namespace

bool build_fdt(const FdtConfig& cfg, std::vector<u8>& blob, std::string& error) {
  std::vector<u8> buf(64 * 1024);
  Writer w(buf);
  w.check(fdt_create(buf.data(), static_cast<int>(buf.size())));
  w.check(fdt_finish_reservemap(buf.data()));
  const u32 kCpuIntcPhandle = 1;  // cpu N's interrupt controller: kCpuIntcPhandle + N
  const u32 plic_phandle = kCpuIntcPhandle + cfg.cpus;
  const u32 syscon_phandle = plic_phandle + 1;

  w.begin("");
  w.prop_u32("#address-cells", 2);
  w.prop_u32("#size-cells", 2);
  w.prop_str("compatible", "linux,dummy-virt");
  w.prop_str("model", "rvkvm");

  w.begin("chosen");
  w.prop_str("bootargs", cfg.bootargs);
  if (!cfg.stdout_path.empty()) w.prop_str("stdout-path", cfg.stdout_path);
  if (cfg.initrd_end > cfg.initrd_start) {
    w.prop_u64("linux,initrd-start", cfg.initrd_start);
    w.prop_u64("linux,initrd-end", cfg.initrd_end);
  }
  w.end();

  w.begin(fmt::format("memory@{:x}", cfg.ram_base));
  w.prop_str("device_type", "memory");
  w.prop_reg(cfg.ram_base, cfg.ram_size);
  w.end();

  w.begin("cpus");
  w.prop_u32("#address-cells", 1);
  w.prop_u32("#size-cells", 0);
  w.prop_u32("timebase-frequency", static_cast<u32>(cfg.timebase_hz));
  for (unsigned i = 0; i < cfg.cpus; ++i) {
    w.begin(fmt::format("cpu@{:x}", i));
    w.prop_str("device_type", "cpu");
    w.prop_u32("reg", i);
    w.prop_str("status", "okay");
    w.prop_str("compatible", "riscv");
    w.prop_str("riscv,isa", cfg.isa);
    w.prop_str("riscv,isa-base", "rv64i");
    w.prop_strings("riscv,isa-extensions", cfg.isa_extensions);
    w.prop_str("mmu-type", cfg.mmu_type);
    w.begin("interrupt-controller");
    w.prop_u32("#address-cells", 0);
    w.prop_u32("#interrupt-cells", 1);
    w.prop_empty("interrupt-controller");
    w.prop_str("compatible", "riscv,cpu-intc");
    w.prop_u32("phandle", kCpuIntcPhandle + i);
    w.end();
    w.end();
  }
  w.end();

  w.begin("soc");
  w.prop_u32("#address-cells", 2);
  w.prop_u32("#size-cells", 2);
  w.prop_str("compatible", "simple-bus");
  w.prop_empty("ranges");

  if (cfg.plic_size) {
    w.begin(fmt::format("plic@{:x}", cfg.plic_base));
    w.prop_strings("compatible", {"sifive,plic-1.0.0", "riscv,plic0"});
    w.prop_reg(cfg.plic_base, cfg.plic_size);
    w.prop_u32("#interrupt-cells", 1);
    w.prop_u32("#address-cells", 0);
    w.prop_empty("interrupt-controller");
    w.prop_u32("riscv,ndev", cfg.plic_sources - 1);
    // One S-mode context per hart: context i is hart i's supervisor external interrupt (9).
    std::vector<u32> ext;
    for (unsigned i = 0; i < cfg.cpus; ++i) {
      ext.push_back(kCpuIntcPhandle + i);
      ext.push_back(9);
    }
    w.prop_cells("interrupts-extended", ext);
    w.prop_u32("phandle", plic_phandle);
    w.end();
  }

  if (cfg.syscon_size) {
    w.begin(fmt::format("test@{:x}", cfg.syscon_base));
    w.prop_strings("compatible", {"sifive,test1", "sifive,test0", "syscon"});
    w.prop_reg(cfg.syscon_base, cfg.syscon_size);
    w.prop_u32("phandle", syscon_phandle);
    w.end();
  }

  for (const FdtDevice& d : cfg.devices) {
    w.begin(d.node);
    w.prop_strings("compatible", d.compatible);
    w.prop_reg(d.base, d.size);
    if (d.irq) {
      w.prop_u32("interrupts", d.irq);
      w.prop_u32("interrupt-parent", plic_phandle);
    }
    for (const auto& [name, v] : d.u32_props) w.prop_u32(name.c_str(), v);
    w.end();
  }
  w.end();  // soc

  // syscon-poweroff/-reboot have no registers of their own: they sit at the root, not on the bus.
  if (cfg.syscon_size) {
    w.begin("poweroff");
    w.prop_str("compatible", "syscon-poweroff");
    w.prop_u32("regmap", syscon_phandle);
    w.prop_u32("offset", 0);
    w.prop_u32("value", 0x5555);
    w.end();
    w.begin("reboot");
    w.prop_str("compatible", "syscon-reboot");
    w.prop_u32("regmap", syscon_phandle);
    w.prop_u32("offset", 0);
    w.prop_u32("value", 0x7777);
    w.end();
  }
  w.end();  // root
  w.check(fdt_finish(buf.data()));
  if (!w.ok()) {
    error = std::string("libfdt: ") + fdt_strerror(w.err());
    return false;
  }
  buf.resize(fdt_totalsize(buf.data()));
  blob = std::move(buf);
  return true;
}

}  // namespace rvkvm::vmm
