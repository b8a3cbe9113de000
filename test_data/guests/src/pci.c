/* pci: bus 0 through configuration mechanism #1 (ports 0xCF8/0xCFC). */
#include "runtime.h"

static uint32_t config_read32(int dev, int fn, int reg)
{
    outl(0xCF8, 0x80000000u | (uint32_t)(dev << 11) | (uint32_t)(fn << 8) | (uint32_t)(reg & 0xFC));
    return inl(0xCFC);
}

void guest_main(void)
{
    kprintf("pci: guest kit pci started\n");
    int functions = 0;
    for (int dev = 0; dev < 32; dev++) {
        for (int fn = 0; fn < 8; fn++) {
            uint32_t id = config_read32(dev, fn, 0x00);
            if ((id & 0xFFFF) == 0xFFFF) {
                if (fn == 0)
                    break;
                continue;
            }
            uint32_t class_rev = config_read32(dev, fn, 0x08);
            uint32_t header = (config_read32(dev, fn, 0x0C) >> 16) & 0xFF;
            uint32_t bar0 = config_read32(dev, fn, 0x10);
            kprintf("pci: 00:%02x.%u vendor=%04x device=%04x class=%06x header=%02x bar0=0x%08x\n",
                    dev, fn, id & 0xFFFF, id >> 16, class_rev >> 8, header, bar0);
            functions++;
            if (fn == 0 && !(header & 0x80))
                break; /* single-function device */
        }
    }
    kprintf("pci: functions=%d\n", functions);
    kprintf("pci: done\n");
}
