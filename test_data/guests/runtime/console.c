/* Serial output and printf-style formatting. */
#include "runtime.h"

#define COM1 0x3F8

/* Transmit-only: the emulated 16550s consume THR writes at once, so the line
 * status register is not polled (each poll would cost a VM exit). */
void serial_putc(char c)
{
    outb(COM1, (uint8_t)c);
}

void serial_write(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

static void put_padded(const char *digits, int len, int width, char pad, bool negative)
{
    if (negative && pad == '0') {
        serial_putc('-');
        negative = false;
        width--;
    }
    for (int i = len + (negative ? 1 : 0); i < width; i++)
        serial_putc(pad);
    if (negative)
        serial_putc('-');
    for (int i = len - 1; i >= 0; i--)
        serial_putc(digits[i]);
}

static void put_unsigned(uint64_t v, unsigned base, int width, char pad, bool negative)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    put_padded(buf, n, width, pad, negative);
}

void kvprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        int precision = -1;
        if (*fmt == '.') {
            precision = 0;
            for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
                precision = precision * 10 + (*fmt - '0');
        }
        while (*fmt == 'l' || *fmt == 'z') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_unsigned(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, width, pad, v < 0);
            break;
        }
        case 'u':
            put_unsigned(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, false);
            break;
        case 'x':
            put_unsigned(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, false);
            break;
        case 'p':
            serial_write("0x");
            put_unsigned((uint64_t)va_arg(ap, void *), 16, width, pad, false);
            break;
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int len = 0;
            while (s[len] && (precision < 0 || len < precision))
                len++;
            for (int i = len; i < width; i++)
                serial_putc(' ');
            for (int i = 0; i < len; i++)
                serial_putc(s[i]);
            break;
        }
        case '%':
            serial_putc('%');
            break;
        case '\0':
            return;
        default:
            serial_putc('%');
            serial_putc(*fmt);
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}
