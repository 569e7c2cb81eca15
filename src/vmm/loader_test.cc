// The kernel loader: a Linux Image, an ELF and a flat binary, and kvmtool's placement of the
// device tree and the initrd.
#include "vmm/loader.h"

#include <gtest/gtest.h>
#include <elf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

namespace rvkvm::vmm {
namespace {

constexpr u64 kBase = 0x80000000;

class LoaderTest : public ::testing::Test {
 protected:
  LoaderTest() : m_ram(512ull << 20), m_mem(m_ram.data(), kBase, m_ram.size()) {}
  std::string write(const std::string& name, const std::vector<u8>& bytes) {
    std::string path = ::testing::TempDir() + "/rvkvm_loader_" + name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return path;
  }
  std::vector<u8> m_ram;
  GuestMemory m_mem;
};

std::vector<u8> linux_image(u64 image_size) {
  std::vector<u8> b(8192, 0x13);  // nops after the header
  u64 text_offset = 0x200000;
  std::memcpy(b.data() + 8, &text_offset, 8);
  std::memcpy(b.data() + 16, &image_size, 8);
  std::memcpy(b.data() + 48, "RISCV\0\0\0", 8);
  std::memcpy(b.data() + 56, "RSC\x05", 4);
  return b;
}

TEST_F(LoaderTest, LinuxImageGoesAtRamPlus2MiBAndItsImageSizeIsReserved) {
  auto img = linux_image(24ull << 20);  // .bss runs well past the file
  ASSERT_TRUE(is_linux_image(img));
  BootLayout l;
  std::string err;
  ASSERT_TRUE(load_guest(m_mem, write("image", img), "", l, err)) << err;
  EXPECT_EQ(l.kernel_kind, "Image");
  EXPECT_EQ(l.kernel_entry, kBase + (2ull << 20));
  EXPECT_EQ(l.kernel_end, kBase + (2ull << 20) + (24ull << 20));
  EXPECT_EQ(std::memcmp(m_mem.ptr(l.kernel_entry, img.size()), img.data(), img.size()), 0);
  // The device tree goes after image_size, aligned to 4 MiB.
  EXPECT_EQ(l.fdt_addr, kBase + (28ull << 20));
  EXPECT_EQ(l.initrd_start, 0u);
}

TEST_F(LoaderTest, InitrdSitsAtTheTopOfTheFirst256MiB) {
  std::vector<u8> rd(3 * 4096 + 17, 0xab);
  BootLayout l;
  std::string err;
  ASSERT_TRUE(load_guest(m_mem, write("k2", linux_image(8192)), write("rd", rd), l, err)) << err;
  EXPECT_EQ(l.initrd_end - l.initrd_start, rd.size());
  EXPECT_EQ(l.initrd_start % 4096, 0u);
  EXPECT_LE(l.initrd_end, kBase + (256ull << 20));
  EXPECT_GT(l.initrd_end, kBase + (256ull << 20) - 4096);
  EXPECT_EQ(*m_mem.ptr(l.initrd_start, 1), 0xab);
}

TEST_F(LoaderTest, FlatBinaryLoadsAtRamPlus2MiB) {
  std::vector<u8> flat = {0x6f, 0x00, 0x00, 0x00};  // j .
  BootLayout l;
  std::string err;
  ASSERT_TRUE(load_guest(m_mem, write("flat", flat), "", l, err)) << err;
  EXPECT_EQ(l.kernel_kind, "flat");
  EXPECT_EQ(l.kernel_entry, kBase + (2ull << 20));
  EXPECT_EQ(*m_mem.ptr(l.kernel_entry, 1), 0x6f);
}

TEST_F(LoaderTest, ElfSegmentsGoWhereTheyAskAndEntryComesFromTheHeader) {
  std::vector<u8> e(4096 + 64, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_RISCV;
  eh.e_version = EV_CURRENT;
  eh.e_entry = kBase + 0x400010;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_offset = 4096;
  ph.p_paddr = ph.p_vaddr = kBase + 0x400000;
  ph.p_filesz = 64;
  ph.p_memsz = 8192;  // the rest is .bss
  std::memcpy(e.data(), &eh, sizeof(eh));
  std::memcpy(e.data() + sizeof(eh), &ph, sizeof(ph));
  std::memset(e.data() + 4096, 0x5a, 64);
  std::memset(m_mem.ptr(kBase + 0x400000 + 64, 64), 0xff, 64);  // must be cleared as .bss
  BootLayout l;
  std::string err;
  ASSERT_TRUE(load_guest(m_mem, write("elf", e), "", l, err)) << err;
  EXPECT_EQ(l.kernel_kind, "ELF");
  EXPECT_EQ(l.kernel_entry, kBase + 0x400010);
  EXPECT_EQ(*m_mem.ptr(kBase + 0x400000, 1), 0x5a);
  EXPECT_EQ(*m_mem.ptr(kBase + 0x400000 + 64, 1), 0x00);
}

TEST_F(LoaderTest, RefusesWhatDoesNotFitOrDoesNotExist) {
  BootLayout l;
  std::string err;
  EXPECT_FALSE(load_guest(m_mem, "/nonexistent/kernel", "", l, err));
  EXPECT_FALSE(load_guest(m_mem, write("empty", {}), "", l, err));
  EXPECT_FALSE(load_guest(m_mem, write("huge", linux_image(1ull << 40)), "", l, err));
  // An ELF segment outside RAM.
  std::vector<u8> e(128, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_machine = EM_RISCV;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_paddr = 0x1000;
  ph.p_memsz = 16;
  std::memcpy(e.data(), &eh, sizeof(eh));
  std::memcpy(e.data() + sizeof(eh), &ph, sizeof(ph));
  EXPECT_FALSE(load_guest(m_mem, write("badelf", e), "", l, err));
  // An initrd that would overlap the kernel.
  std::vector<u8> big(253ull << 20, 1);  // would start at RAM+3 MiB, below the device tree at RAM+4 MiB
  EXPECT_FALSE(load_guest(m_mem, write("k3", linux_image(8192)), write("bigrd", big), l, err));
}

}  // namespace
}  // namespace rvkvm::vmm
