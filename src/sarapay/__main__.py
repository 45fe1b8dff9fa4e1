from sarapay.cli import main

main()
