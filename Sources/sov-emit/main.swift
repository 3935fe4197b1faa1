import SOVCLI

EmitCommand.main()
