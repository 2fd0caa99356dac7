/*
 * arm64 Image header (Linux Documentation/arch/arm64/booting.rst, "Call the kernel image") for the `make qemu`
 * variant. QEMU's -kernel treats a file as a Linux Image only when it carries the magic "ARM\x64" at offset 0x38;
 * only then does it load it at RAM base + text_offset and enter it with x0 = the DTB address. The first word
 * branches to the kit's usual entry, so start.S is the same on both platforms.
 */
    .section .text.head, "ax"
    .global _head
_head:
    b       _start                  /* code0 */
    .word   0                       /* code1 */
    .quad   0x80000                 /* text_offset: kvmtool's TEXT_OFFSET too, so the image sits at RAM + 0x80000 */
    .quad   __end - _head           /* image_size, bss and stacks included; non-zero, so text_offset is honoured */
    .quad   0x2                     /* flags: little-endian, 4 KiB pages, 2 MiB-aligned base near the start of RAM */
    .quad   0                       /* res2 */
    .quad   0                       /* res3 */
    .quad   0                       /* res4 */
    .ascii  "ARM\x64"               /* magic */
    .word   0                       /* res5: no PE header */
