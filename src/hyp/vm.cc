// VMs: memory slots, the G-stage, dirty logging, MMU-notifier operations, VMIDs and remote
// TLB flushes (Linux arch/riscv/kvm/vm.c, mmu.c, vmid.c, tlb.c).
#include <algorithm>
#include <cstring>
#include <thread>

#include "hyp/emulated.h"

namespace rvkvm::hyp {
namespace {

constexpr u64 kPage = 4096;
constexpr u64 k2M = 2ull << 20;
constexpr u64 k1G = 1ull << 30;
constexpr std::size_t kPoolBytes = 64ull << 20;

bool ranges_overlap(u64 a, u64 as, u64 b, u64 bs) { return a < b + bs && b < a + as; }

}  // namespace

u64 host_time_ticks() { return host_clock_ticks(kTimebaseHz); }

bool VmidAllocator::update(u64& vmid, u64& vmid_version, bool& rollover) {
  std::lock_guard lock(m_mu);
  u64 ver = m_version.load(std::memory_order_relaxed);
  if (vmid_version == ver) return false;
  if (m_next >= (1ull << m_bits)) {
    // Out of VMIDs: start a new generation. Every VM must pick a new VMID and every hart must
    // forget the translations tagged with the old ones (KVM does hfence.gvma on all harts).
    m_version.store(++ver, std::memory_order_release);
    m_next = 1;
    rollover = true;
  }
  vmid = m_next++;
  vmid_version = ver;
  return true;
}

// ---------------------------------------------------------------------------------------------

int EmulatedHypervisor::check_extension(Cap cap) {
  switch (cap) {
    case Cap::KVM_CAP_USER_MEMORY:
    case Cap::KVM_CAP_READONLY_MEM:
    case Cap::KVM_CAP_ONE_REG:
    case Cap::KVM_CAP_MP_STATE:
    case Cap::KVM_CAP_IMMEDIATE_EXIT:
    case Cap::KVM_CAP_SYNC_MMU:
      return 1;
    case Cap::KVM_CAP_NR_VCPUS:
    case Cap::KVM_CAP_MAX_VCPUS:
      return static_cast<int>(kMaxVcpus);
    case Cap::KVM_CAP_NR_MEMSLOTS:
      return static_cast<int>(kMaxMemslots);
    case Cap::KVM_CAP_VM_GPA_BITS:
      return 59;  // Sv57x4, the widest G-stage mode
  }
  return 0;
}

int EmulatedHypervisor::create_vm(const VmConfig& cfg, std::unique_ptr<Vm>& out) {
  if (cfg.gstage_mode < 8 || cfg.gstage_mode > 10) return kEINVAL;
  auto vm = std::make_unique<EmulatedVm>(*this, cfg);
  if (!vm->ok()) return kENOMEM;
  out = std::move(vm);
  return kOk;
}

void EmulatedHypervisor::register_vm(EmulatedVm* vm) {
  std::lock_guard lock(m_mu);
  m_vms.push_back(vm);
}

void EmulatedHypervisor::unregister_vm(EmulatedVm* vm) {
  std::lock_guard lock(m_mu);
  m_vms.erase(std::remove(m_vms.begin(), m_vms.end(), vm), m_vms.end());
}

void EmulatedHypervisor::request_all(u32 req) {
  std::lock_guard lock(m_mu);
  for (EmulatedVm* vm : m_vms)
    for (EmulatedVcpu* v : vm->vcpus()) v->make_request(req, true);
}

std::unique_ptr<Hypervisor> create_emulated_hypervisor(const HypervisorConfig& cfg) {
  HypervisorConfig c = cfg;
  c.vmid_bits = std::clamp(c.vmid_bits, 1u, 14u);
  return std::make_unique<EmulatedHypervisor>(c);
}

// ---------------------------------------------------------------------------------------------

EmulatedVm::EmulatedVm(EmulatedHypervisor& hv, const VmConfig& cfg) : m_hv(hv), m_cfg(cfg) {
  m_pool = std::make_unique<PagePool>(kPoolBytes);
  if (!m_pool->base()) return;
  m_bus.add_ram(reinterpret_cast<u64>(m_pool->base()), m_pool->size(), m_pool->base());
  m_gstage = std::make_unique<GStage>(*m_pool, cfg.gstage_mode,
                                      [this](u64 hpa, u64 size) { return host_range_owned(hpa, size); });
  if (!m_gstage->ok()) {
    m_gstage.reset();
    return;
  }
  // Guest time starts at zero when the VM is created, as KVM's timer does.
  m_htimedelta = 0 - host_time_ticks();
  hv.register_vm(this);
}

EmulatedVm::~EmulatedVm() {
  if (m_gstage) m_hv.unregister_vm(this);
  m_vcpus.clear();
}

u64 EmulatedVm::gpa_bits() const { return 12 + 9 * (m_cfg.gstage_mode - 5) + 2; }

int EmulatedVm::check_extension(Cap cap) {
  if (cap == Cap::KVM_CAP_VM_GPA_BITS) return static_cast<int>(gpa_bits());
  return m_hv.check_extension(cap);
}

bool EmulatedVm::host_range_owned(u64 hpa, u64 size) const {
  // Called with m_mmu_mu held, from GStage::map.
  for (const Memslot& s : m_slots) {
    u64 base = reinterpret_cast<u64>(s.hva);
    if (hpa >= base && size <= s.size && hpa - base <= s.size - size) return true;
  }
  return false;
}

Memslot* EmulatedVm::find_slot_locked(u64 gpa) {
  for (Memslot& s : m_slots)
    if (s.contains_gpa(gpa)) return &s;
  return nullptr;
}

std::vector<Memslot>::iterator EmulatedVm::slot_by_id_locked(u32 id) {
  return std::find_if(m_slots.begin(), m_slots.end(), [&](const Memslot& s) { return s.id == id; });
}

template <typename Fn>
void EmulatedVm::for_each_slot_overlap_locked(u64 hva, u64 len, Fn&& fn) {
  for (const Memslot& s : m_slots) {
    u64 base = reinterpret_cast<u64>(s.hva);
    if (!ranges_overlap(hva, len, base, s.size)) continue;
    fn(s, std::max(hva, base), std::min(hva + len, base + s.size));
  }
}

void EmulatedVm::unmap_slot_locked(const Memslot& s) { (void)m_gstage->unmap(s.gpa, s.size); }

int EmulatedVm::set_user_memory_region(const UserMemoryRegion& r) {
  if (r.slot >= kMaxMemslots) return kEINVAL;
  if (r.flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) return kEINVAL;
  u64 hva = reinterpret_cast<u64>(r.userspace_addr);
  if ((r.guest_phys_addr | r.memory_size | hva) & (kPage - 1)) return kEINVAL;
  if (r.memory_size && (r.guest_phys_addr + r.memory_size < r.guest_phys_addr || hva + r.memory_size < hva))
    return kEINVAL;
  // As KVM's kvm_arch_prepare_memory_region: the slot must end below the last guest page frame.
  if (r.memory_size && r.guest_phys_addr + r.memory_size >= (1ull << gpa_bits())) return kEFAULT;

  bool flush = false;
  {
    std::lock_guard lock(m_mmu_mu);
    auto it = slot_by_id_locked(r.slot);
    if (r.memory_size == 0) {
      // Delete.
      if (it == m_slots.end()) return kEINVAL;
      unmap_slot_locked(*it);
      m_bus.remove_ram(reinterpret_cast<u64>(it->hva), it->size);
      m_slots.erase(it);
      flush = true;
    } else {
      auto overlaps_other = [&](u64 gpa) {
        return std::any_of(m_slots.begin(), m_slots.end(), [&](const Memslot& s) {
          return s.id != r.slot && ranges_overlap(gpa, r.memory_size, s.gpa, s.size);
        });
      };
      if (it == m_slots.end()) {
        // Create.
        if (overlaps_other(r.guest_phys_addr)) return kEEXIST;
        Memslot s;
        s.id = r.slot;
        s.flags = r.flags;
        s.gpa = r.guest_phys_addr;
        s.size = r.memory_size;
        s.hva = static_cast<u8*>(r.userspace_addr);
        if (s.flags & KVM_MEM_LOG_DIRTY_PAGES) s.dirty.assign((s.pages() + 63) / 64, 0);
        if (!m_bus.add_ram(hva, s.size, s.hva)) return kEINVAL;
        m_slots.push_back(std::move(s));
      } else {
        // Move or change flags: the host memory and the size must stay (KVM rejects the rest).
        Memslot& s = *it;
        if (hva != reinterpret_cast<u64>(s.hva) || r.memory_size != s.size ||
            ((r.flags ^ s.flags) & KVM_MEM_READONLY))
          return kEINVAL;
        if (r.guest_phys_addr != s.gpa) {
          if (overlaps_other(r.guest_phys_addr)) return kEEXIST;
          unmap_slot_locked(s);
          s.gpa = r.guest_phys_addr;
          flush = true;
        }
        bool was_logging = s.flags & KVM_MEM_LOG_DIRTY_PAGES;
        bool logging = r.flags & KVM_MEM_LOG_DIRTY_PAGES;
        if (logging && !was_logging) {
          // Start logging: every page must fault on its next write, and be mapped at 4 KiB.
          s.dirty.assign((s.pages() + 63) / 64, 0);
          unmap_slot_locked(s);
          flush = true;
        } else if (!logging && was_logging) {
          s.dirty.clear();
        }
        s.flags = r.flags;
      }
    }
  }
  if (flush) flush_remote_tlbs_sync();
  return kOk;
}

int EmulatedVm::get_dirty_log(u32 slot, std::vector<u64>& bitmap) {
  if (slot >= kMaxMemslots) return kEINVAL;
  {
    std::lock_guard lock(m_mmu_mu);
    auto it = slot_by_id_locked(slot);
    if (it == m_slots.end() || !(it->flags & KVM_MEM_LOG_DIRTY_PAGES)) return kENOENT;
    bitmap = it->dirty;
    // Returning the log re-arms it: clear the bits and write-protect those pages again.
    for (u64 w = 0; w < it->dirty.size(); ++w) {
      u64 bits = it->dirty[w];
      it->dirty[w] = 0;
      while (bits) {
        u64 page = w * 64 + static_cast<u64>(__builtin_ctzll(bits));
        bits &= bits - 1;
        (void)m_gstage->write_protect(it->gpa + page * kPage, kPage);
      }
    }
  }
  flush_remote_tlbs_sync();
  return kOk;
}

int EmulatedVm::clear_dirty_log(u32 slot, u64 first_page, u64 num_pages, const u64* bitmap) {
  if (slot >= kMaxMemslots) return kEINVAL;
  {
    std::lock_guard lock(m_mmu_mu);
    auto it = slot_by_id_locked(slot);
    if (it == m_slots.end() || !(it->flags & KVM_MEM_LOG_DIRTY_PAGES)) return kENOENT;
    // KVM requires 64-page alignment, except for a range that ends the slot.
    if ((first_page & 63) || first_page > it->pages() || num_pages > it->pages() - first_page ||
        ((num_pages & 63) && first_page + num_pages != it->pages()))
      return kEINVAL;
    if (num_pages && !bitmap) return kEFAULT;
    for (u64 i = 0; i < num_pages; ++i) {
      if (!((bitmap[i / 64] >> (i % 64)) & 1)) continue;
      u64 page = first_page + i;
      it->dirty[page / 64] &= ~(1ull << (page % 64));
      (void)m_gstage->write_protect(it->gpa + page * kPage, kPage);
    }
  }
  flush_remote_tlbs_sync();
  return kOk;
}

int EmulatedVm::invalidate_host_range(const void* hva_ptr, u64 len) {
  u64 hva = reinterpret_cast<u64>(hva_ptr);
  bool changed = false;
  {
    std::lock_guard lock(m_mmu_mu);
    for_each_slot_overlap_locked(hva, len, [&](const Memslot& s, u64 start, u64 end) {
      u64 base = reinterpret_cast<u64>(s.hva);
      u64 gpa = s.gpa + ((start - base) & ~(kPage - 1));
      u64 size = ((end - base + kPage - 1) & ~(kPage - 1)) - (gpa - s.gpa);
      changed |= m_gstage->unmap(gpa, size) != 0;
    });
  }
  if (changed) flush_remote_tlbs_sync();
  return kOk;
}

bool EmulatedVm::age(const void* hva_ptr, u64 len) {
  u64 hva = reinterpret_cast<u64>(hva_ptr);
  bool young = false;
  {
    std::lock_guard lock(m_mmu_mu);
    for_each_slot_overlap_locked(hva, len, [&](const Memslot& s, u64 start, u64 end) {
      young |= m_gstage->test_and_clear_accessed(s.gpa + (start - reinterpret_cast<u64>(s.hva)), end - start, true);
    });
  }
  if (young) flush_remote_tlbs_sync();
  return young;
}

bool EmulatedVm::test_age(const void* hva_ptr, u64 len) {
  u64 hva = reinterpret_cast<u64>(hva_ptr);
  std::lock_guard lock(m_mmu_mu);
  bool young = false;
  for_each_slot_overlap_locked(hva, len, [&](const Memslot& s, u64 start, u64 end) {
    young = young || m_gstage->test_and_clear_accessed(s.gpa + (start - reinterpret_cast<u64>(s.hva)), end - start, false);
  });
  return young;
}

int EmulatedVm::map_gpa(u64 gpa, bool write) {
  bool flush = false;
  int result = 1;
  {
    std::lock_guard lock(m_mmu_mu);
    Memslot* s = find_slot_locked(gpa);
    if (!s) return 0;
    if (write && (s->flags & KVM_MEM_READONLY)) return -1;
    bool logging = s->flags & KVM_MEM_LOG_DIRTY_PAGES;
    u64 hva_of_slot = reinterpret_cast<u64>(s->hva);
    auto fits = [&](u64 size) {
      u64 block = gpa & ~(size - 1);
      return block >= s->gpa && block + size <= s->gpa + s->size &&
             ((hva_of_slot + (block - s->gpa)) & (size - 1)) == 0;
    };
    u64 size = kPage;
    if (m_cfg.huge_pages && !logging) {
      if (fits(k1G)) size = k1G;
      else if (fits(k2M)) size = k2M;
    }
    u64 block = gpa & ~(size - 1);
    u64 hpa = hva_of_slot + (block - s->gpa);
    bool writable = !(s->flags & KVM_MEM_READONLY) && (!logging || write);
    if (logging && write) {
      u64 page = (gpa - s->gpa) >> 12;
      s->dirty[page / 64] |= 1ull << (page % 64);
    }
    // Granting write to a page already mapped read-only at the same size needs no flush: no hart
    // caches a translation that a store could use.
    u64 old_pte = 0;
    unsigned old_level = 0;
    bool upgrade = m_gstage->lookup(block, old_pte, old_level) && (kPage << (9 * old_level)) == size &&
                   ((old_pte >> 10) << 12) == hpa && writable;
    int rc = m_gstage->map(block, hpa, size, writable);
    if (rc < 0) result = rc;
    else flush = rc == GStage::kReplaced && !upgrade;
  }
  if (flush) flush_remote_tlbs_sync();
  return result;
}

void EmulatedVm::flush_remote_tlbs_sync() {
  std::vector<EmulatedVcpu*> vs = vcpus();
  std::vector<u64> epochs(vs.size());
  for (std::size_t i = 0; i < vs.size(); ++i) {
    epochs[i] = vs[i]->acked_requests();
    vs[i]->make_request(EmulatedVcpu::kReqFlushAll, true);
  }
  // A VCPU outside its hart flushes before it enters again; one inside must acknowledge first.
  for (std::size_t i = 0; i < vs.size(); ++i)
    while (vs[i]->in_guest() && vs[i]->acked_requests() == epochs[i]) std::this_thread::yield();
  // No hart can still be walking tables unlinked before the flush: give them back.
  std::lock_guard lock(m_mmu_mu);
  m_gstage->reclaim_retired();
}

u64 EmulatedVm::hgatp() { return m_gstage->hgatp(m_vmid); }

void EmulatedVm::update_vmid(EmulatedVcpu& v) {
  VmidAllocator& ids = m_hv.vmids();
  if (m_vmid_version == ids.version()) return;
  bool rollover = false;
  bool changed;
  {
    std::lock_guard lock(m_mmu_mu);
    changed = ids.update(m_vmid, m_vmid_version, rollover);
  }
  if (rollover) m_hv.request_all(EmulatedVcpu::kReqFlushAll | EmulatedVcpu::kReqUpdateHgatp);
  if (changed)
    for (EmulatedVcpu* o : vcpus()) o->make_request(EmulatedVcpu::kReqUpdateHgatp, o != &v);
}

std::vector<EmulatedVcpu*> EmulatedVm::vcpus() {
  std::lock_guard lock(m_vcpu_mu);
  std::vector<EmulatedVcpu*> out;
  for (auto& v : m_vcpus)
    if (v) out.push_back(v.get());
  return out;
}

EmulatedVcpu* EmulatedVm::vcpu_by_hartid(u64 hartid) {
  std::lock_guard lock(m_vcpu_mu);
  if (hartid >= m_vcpus.size()) return nullptr;
  return m_vcpus[hartid].get();
}

int EmulatedVm::create_vcpu(u32 id, Vcpu*& out) {
  if (id >= kMaxVcpus) return kEINVAL;
  std::lock_guard lock(m_vcpu_mu);
  if (id < m_vcpus.size() && m_vcpus[id]) return kEEXIST;
  if (m_vcpus.size() <= id) m_vcpus.resize(id + 1);
  m_vcpus[id] = std::make_unique<EmulatedVcpu>(*this, id);
  out = m_vcpus[id].get();
  return kOk;
}

}  // namespace rvkvm::hyp
