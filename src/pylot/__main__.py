from pylot.cli import main

main()
