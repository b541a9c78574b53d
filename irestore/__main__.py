from irestore.cli.main import main

main()
