import SOVCLI

MarkupCommand.main()
