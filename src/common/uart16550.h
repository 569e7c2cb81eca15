#pragma once
// A 16550A UART register model (byte-wide registers, reg-shift 0), shared by the bare-metal
// machine and the VMM. The owner supplies where transmitted bytes go and how the interrupt line
// is driven; received bytes are pushed in with receive().
#include <deque>
#include <functional>
#include <mutex>

#include "common/types.h"

namespace rvkvm {

class Uart16550 {
 public:
  using TxFn = std::function<void(u8)>;
  using IrqFn = std::function<void(bool)>;
  Uart16550(TxFn tx, IrqFn irq) : m_tx(std::move(tx)), m_irq(std::move(irq)) {}

  u8 read(u64 offset);
  void write(u64 offset, u8 value);
  // Queues input bytes (from any thread).
  void receive(u8 byte);
  [[nodiscard]] bool rx_has_room();
  // The driver has enabled the receive interrupt: input given now will be seen.
  [[nodiscard]] bool rx_ready();

 private:
  void update_irq();
  TxFn m_tx;
  IrqFn m_irq;
  std::mutex m_mu;
  std::deque<u8> m_rx;
  u8 m_ier = 0, m_lcr = 0, m_mcr = 0, m_scr = 0, m_dll = 0x0c, m_dlm = 0, m_fcr = 0;
  bool m_thre_pending = false;  // THR-empty interrupt owed since the last IIR read or THR write
  bool m_irq_level = false;
};

}  // namespace rvkvm
