#include "common/uart16550.h"

namespace rvkvm {
namespace {
enum : u64 { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
constexpr u8 kLcrDlab = 0x80;
constexpr u8 kIerRx = 1, kIerThre = 2;
constexpr u8 kLsrDr = 1, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr std::size_t kRxLimit = 4096;
}  // namespace

u8 Uart16550::read(u64 offset) {
  std::lock_guard lock(m_mu);
  u8 v = 0;
  switch (offset & 7) {
    case RBR_THR:
      if (m_lcr & kLcrDlab) {
        v = m_dll;
      } else if (!m_rx.empty()) {
        v = m_rx.front();
        m_rx.pop_front();
      }
      break;
    case IER: v = (m_lcr & kLcrDlab) ? m_dlm : m_ier; break;
    case IIR_FCR:
      // Priority: received data, then transmitter empty (16550 datasheet, IIR).
      if ((m_ier & kIerRx) && !m_rx.empty()) {
        v = 0x04;
      } else if ((m_ier & kIerThre) && m_thre_pending) {
        v = 0x02;
        m_thre_pending = false;  // reading IIR clears the THRE interrupt
      } else {
        v = 0x01;
      }
      if (m_fcr & 1) v |= 0xc0;
      break;
    case LCR: v = m_lcr; break;
    case MCR: v = m_mcr; break;
    case LSR: v = kLsrThre | kLsrTemt | (m_rx.empty() ? 0 : kLsrDr); break;
    case MSR: v = 0xb0; break;  // CTS, DSR, DCD asserted
    case SCR: v = m_scr; break;
  }
  update_irq();
  return v;
}

void Uart16550::write(u64 offset, u8 value) {
  bool send = false;
  {
    std::lock_guard lock(m_mu);
    switch (offset & 7) {
      case RBR_THR:
        if (m_lcr & kLcrDlab) {
          m_dll = value;
        } else {
          send = true;
          m_thre_pending = true;  // transmission is instantaneous
        }
        break;
      case IER:
        if (m_lcr & kLcrDlab) {
          m_dlm = value;
        } else {
          if ((value & kIerThre) && !(m_ier & kIerThre)) m_thre_pending = true;
          m_ier = value & 0x0f;
        }
        break;
      case IIR_FCR:
        m_fcr = value;
        if (value & 2) m_rx.clear();
        break;
      case LCR: m_lcr = value; break;
      case MCR: m_mcr = value; break;
      case SCR: m_scr = value; break;
      default: break;
    }
    update_irq();
  }
  if (send) m_tx(value);
}

void Uart16550::receive(u8 byte) {
  std::lock_guard lock(m_mu);
  if (m_rx.size() < kRxLimit) m_rx.push_back(byte);
  update_irq();
}

bool Uart16550::rx_ready() {
  std::lock_guard lock(m_mu);
  return (m_ier & kIerRx) != 0 && m_rx.size() < kRxLimit;
}

bool Uart16550::rx_has_room() {
  std::lock_guard lock(m_mu);
  return m_rx.size() < kRxLimit;
}

void Uart16550::update_irq() {
  bool level = ((m_ier & kIerRx) && !m_rx.empty()) || ((m_ier & kIerThre) && m_thre_pending);
  if (level != m_irq_level) {
    m_irq_level = level;
    if (m_irq) m_irq(level);
  }
}

}  // namespace rvkvm
