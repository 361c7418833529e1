/* A small C program for debugger sessions and tests, the same on every architecture
 * (start-*.S sets the stack up, calls main and ends the run with its status): a loop
 * that counts in a global (watch it), calls a function (break in it, finish from it),
 * and checks its own result. */

volatile unsigned int counter; /* how many rounds the loop has done */
volatile unsigned int total;   /* the sum of the squares so far */

__attribute__((noinline)) unsigned int square(unsigned int n)
{
    unsigned int result = n * n;
    return result;
}

int main(void)
{
    unsigned int i;
    for (i = 1; i <= 100; i++) {
        counter = counter + 1;
        total += square(i);
    }
    return total == 338350 ? 0 : 1; /* 1^2 + ... + 100^2 */
}
