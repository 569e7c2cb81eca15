// Reports failure code 7 through HTIF tohost.
int main(void) { return 7; }
