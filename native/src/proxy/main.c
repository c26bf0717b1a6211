/* placeholder: berth-proxy is being written */
int main(void) { return 1; }
