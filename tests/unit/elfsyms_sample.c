/* A small program for test_elfsyms: known symbols of each kind. */
int sfemu_sample_table[64] = { 1 };

static int __attribute__((noinline)) sample_static(int x)
{
    return x * 3 + sfemu_sample_table[x & 63];
}

int __attribute__((noinline)) sfemu_sample_func(int x)
{
    int r = sample_static(x) + 1;
    for (int i = 0; i < x; i++) {
        r = r * 7 + sample_static(i);
    }
    return r;
}

#ifndef SAMPLE_LIB
int main(int argc, char **argv)
{
    (void)argv;
    return sfemu_sample_func(argc) & 1;
}
#endif
