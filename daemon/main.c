/* daemon/main.c — the `vibewatch` command: dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    (void)argc; (void)argv;
    puts("vibewatch");
    return 0;
}
